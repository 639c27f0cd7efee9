/**
 * The HIV pathway of one synthetic client: tests whose assay sequences are walked through the
 * WHO strategy itself (src/services/decisions/hiv-testing-strategy.ts, DAK HIV.B7.DT), so every
 * sequence is one the strategy produces; community testing stops at a reactive A1 and refers to
 * the clinic; a positive conclusion brings a diagnosis, ART after a realistic delay (or not yet),
 * the HIV care episode the server would derive, ARV pick-ups (art-pickups.ts), viral loads on the
 * HIV.S.2 schedule, and PrEP for some who test negative.
 */
import type { Condition, MedicationRequest, Observation } from '@medplum/fhirtypes';
import { type Assay, type AssayStep, hivTestingStrategy } from '../services/decisions/hiv-testing-strategy';
import { hivCareEpisode } from '../services/care-gaps-linkage';
import * as C from './codes';
import { type ClientBuilder, DAY_MS, type Dose, ONE_TABLET_DAILY, cc, date, dosage, medication, ref } from './fhir';
import { referral } from './referrals';
import { type ArtFacts, artPickups } from './art-pickups';

/** What the generator knows about a client, for tests and benchmarks that need known answers. */
export interface ClientFacts {
  patient: string;
  clientCode: string;
  home: string;
  clinic: string;
  gender: 'female' | 'male' | 'other';
  birthYear: number;
  pwid: boolean;
  diagnosis?: { date: string; org: string };
  artStart?: string;
  /** ARV pick-ups from ART start (art-pickups.ts): the client's dispensing interval, pattern and every pick-up. */
  art?: ArtFacts;
  viralLoads: { date: string; value: number }[];
  conclusions: { date: string; result: 'positive' | 'negative' | 'inconclusive'; org: string }[];
  prep?: { lastDate: string; active: boolean; supplyDays: number };
  /** Assays that stopped at a reactive A1 with no conclusion yet (community triage, referral pending). */
  pendingA1?: { date: string; org: string };
}

/** Linkage delay in days from diagnosis to ART start; undefined = not (yet) started. */
function linkageDelay(b: ClientBuilder): number | undefined {
  return b.rng.weighted<number | undefined>([[0, 40], [b.rng.int(1, 7), 28], [b.rng.int(8, 30), 15], [b.rng.int(31, 180), 9], [undefined, 8]]);
}

/** One assay result given the true status: RDT sensitivity ~99.5 %, false reactives rare and rarely repeated. */
function read(b: ClientBuilder, step: AssayStep, positive: boolean): Assay['result'] {
  if (positive) return b.rng.chance(0.995) ? 'reactive' : 'non-reactive';
  const falseReactive = step === 'A1' ? 0.02 : step === 'A1-repeat' ? 0.3 : 0.1;
  return b.rng.chance(falseReactive) ? 'reactive' : 'non-reactive';
}

function assayObservation(b: ClientBuilder, org: string, when: string, step: AssayStep, result: Assay['result']): Observation & { id: string } {
  return b.observation(org, when, C.HIV_RDT, {
    valueCodeableConcept: cc(result === 'reactive' ? C.REACTIVE : C.NON_REACTIVE),
    component: [{ code: cc(C.ASSAY_NUMBER), valueCodeableConcept: cc(C.ASSAY_NUMBERS[step]) }],
  });
}

/**
 * One testing visit. `full`: the whole strategy (clinic); otherwise A1 only, and a reactive A1
 * ends the visit without a conclusion (community triage). Returns the conclusion, if any.
 */
function testVisit(b: ClientBuilder, f: ClientFacts, org: string, day: number, positive: boolean, full: boolean): 'positive' | 'negative' | 'inconclusive' | 'pending' {
  const visitDate = date(day);
  const assays: Assay[] = [];
  const obs: Observation[] = [];
  let step: AssayStep = 'A1';
  for (;;) {
    const result = read(b, step, positive);
    assays.push({ step, result, testType: 'rdt' });
    obs.push(assayObservation(b, org, b.time(day), step, result));
    const d = hivTestingStrategy({ assays, visitDate });
    if (!d.ok) throw new Error(`generator produced an invalid assay sequence: ${JSON.stringify(d.issues)}`);
    if ('conclusion' in d.value) {
      const result = d.value.conclusion === 'HIV-positive' ? 'positive' : d.value.conclusion === 'HIV-negative' ? 'negative' : 'inconclusive';
      b.observation(org, b.time(day), C.HIV_CONCLUSION, {
        valueCodeableConcept: { coding: [...C.CONCLUSION_CODINGS[result]], text: d.value.conclusion },
        derivedFrom: obs.map((o) => ref('Observation', o.id!)),
      });
      f.conclusions.push({ date: visitDate, result, org });
      return result;
    }
    if (!full) return 'pending';
    step = d.value.nextStep;
  }
}

/** A refusal is data (SWIT 5.1): the test offered and declined, recorded without a value. */
function declined(b: ClientBuilder, org: string, day: number): void {
  b.observation(org, b.time(day), C.HIV_CONCLUSION, { dataAbsentReason: cc({ system: C.DATA_ABSENT, code: 'asked-declined', display: 'Asked But Declined' }) });
}

function prescription(b: ClientBuilder, org: string, day: number, regimen: C.Regimen, status: MedicationRequest['status'], supplyDays: number, dose: Dose = ONE_TABLET_DAILY): MedicationRequest & { id: string } {
  return b.add<MedicationRequest & { id: string }>({
    resourceType: 'MedicationRequest',
    id: b.id(),
    status,
    intent: 'order',
    medicationCodeableConcept: medication(regimen),
    subject: ref('Patient', b.patient),
    authoredOn: b.time(day),
    requester: ref('Organization', org),
    dosageInstruction: [dosage(dose)],
    dispenseRequest: { expectedSupplyDuration: { value: supplyDays, ...C.DAYS } },
  }, org);
}
export { prescription };

/** Viral loads on the HIV.S.2 schedule from ART start to `until`: 6 and 12 months, then yearly; 3 months after an elevated one. */
function viralLoads(b: ClientBuilder, f: ClientFacts, org: string, artStart: number, until: number): void {
  const at = (months: number, from: number): number => from + Math.round(months * 30.44) * DAY_MS;
  let next = at(6, artStart);
  let count = 0;
  while (next <= until) {
    if (!b.rng.chance(0.9)) break; // some fall out of monitoring: their gap stays open
    const day = next + b.rng.int(0, 21) * DAY_MS;
    if (day > until) break;
    const band = b.rng.weighted([['suppressed', 85], ['elevated', 8], ['failure', 7]] as const);
    const value = band === 'suppressed' ? b.rng.int(20, 49) : band === 'elevated' ? b.rng.int(50, 1000) : b.rng.int(1001, 250_000);
    b.observation(org, b.time(day), C.VIRAL_LOAD, { valueQuantity: { value, ...C.COPIES_PER_ML } });
    f.viralLoads.push({ date: date(day), value });
    count++;
    next = band !== 'suppressed' ? at(3, day) : count === 1 ? at(12, artStart) : at(12, day);
  }
}

/** Diagnosis at the clinic: Condition, ART after the linkage delay, the care episode, viral loads. */
function diagnose(b: ClientBuilder, f: ClientFacts, org: string, day: number): void {
  f.diagnosis = { date: date(day), org };
  b.add<Condition & { id: string }>({
    resourceType: 'Condition',
    id: b.id(),
    clinicalStatus: cc({ system: C.CONDITION_CLINICAL, code: 'active' }),
    verificationStatus: cc({ system: C.CONDITION_VERIFICATION, code: 'confirmed' }),
    code: cc(C.HIV_INFECTION),
    subject: ref('Patient', b.patient),
    onsetDateTime: b.time(day),
    recordedDate: b.time(day),
  }, org);
  const delay = linkageDelay(b);
  const artDay = delay === undefined ? undefined : day + delay * DAY_MS;
  if (artDay !== undefined && artDay <= b.asOf) {
    f.artStart = date(artDay);
    const rx = prescription(b, org, artDay, 'art-tld', 'active', 90);
    f.art = artPickups(b, org, artDay, rx, 'art-tld');
    // Monitoring ends with the last supply of a client who stopped picking up.
    const last = f.art.pickups.at(-1)!;
    viralLoads(b, f, org, artDay, f.art.pattern === 'stopped' ? Math.min(b.asOf, Date.parse(last.date) + last.days * DAY_MS) : b.asOf);
  }
  // The episode the server's linkage rule derives from the same facts (docs/linkage.md).
  b.add(hivCareEpisode({ patient: b.patient, org, diagnosisDate: f.diagnosis.date, artStartDate: f.artStart }), org);
}

/**
 * The client's HIV testing history from `start` to asOf: PrEP users quarterly, others every
 * 7–18 months; a community reactive A1 is referred to the clinic, most attend within two weeks.
 */
export function hivPathway(b: ClientBuilder, f: ClientFacts, start: number, infectedFrom: number | undefined): void {
  let day = start;
  let onPrep = false;
  let prepSupply = 90;
  while (day <= b.asOf) {
    const positive = infectedFrom !== undefined && day >= infectedFrom;
    const atClinic = f.home === f.clinic || b.rng.chance(0.25);
    const org = atClinic ? f.clinic : f.home;
    if (b.rng.chance(0.05)) declined(b, org, day);
    else {
      let outcome = testVisit(b, f, org, day, positive, atClinic);
      let visit = day;
      if (outcome === 'pending') {
        const attends = b.rng.chance(0.8);
        const arrival = visit + b.rng.int(0, 14) * DAY_MS;
        const ok = attends && arrival <= b.asOf;
        referral(b, { from: org, to: f.clinic, type: 'hiv-testing', day: visit, status: ok ? 'completed' : b.rng.pick(['requested', 'accepted'] as const), urgent: true, deadlineDays: 7 });
        if (!ok) {
          f.pendingA1 = { date: date(visit), org };
          return;
        }
        visit = arrival;
        outcome = testVisit(b, f, f.clinic, visit, positive, true);
      }
      while (outcome === 'inconclusive' && visit + 14 * DAY_MS <= b.asOf) {
        visit += 14 * DAY_MS; // HIV.B7.DT.06/.07: retest after 14 days
        outcome = testVisit(b, f, f.clinic, visit, positive, true);
      }
      if (outcome === 'positive') {
        if (org !== f.clinic) referral(b, { from: org, to: f.clinic, type: 'art-initiation', day: visit, status: 'completed', urgent: true });
        if (onPrep) prescription(b, f.clinic, visit, 'prep-ftc-tdf', 'stopped', prepSupply);
        f.prep = f.prep ? { ...f.prep, active: false } : undefined;
        diagnose(b, f, f.clinic, visit);
        return;
      }
      if (outcome === 'negative' && (onPrep || (b.rng.chance(0.3) && !f.prep))) {
        // PrEP refills at each quarterly visit while the client keeps coming (SWIT 5.2).
        onPrep = b.rng.chance(0.85);
        prepSupply = b.rng.pick([30, 90]);
        prescription(b, f.clinic, visit, 'prep-ftc-tdf', onPrep ? 'active' : 'completed', prepSupply);
        f.prep = { lastDate: date(visit), active: onPrep, supplyDays: prepSupply };
      }
      day = visit;
    }
    day += (onPrep ? b.rng.int(80, 100) : b.rng.int(200, 540)) * DAY_MS;
  }
}
