/**
 * The other Chapter 5 services of one synthetic client: TB screening (W4SS), hepatitis B/C tests
 * and hepatitis B vaccination on the schedules of hbv-vaccination.ts, STI episodes, cervical
 * screening, post-rape care (SWIT 5.7), harm reduction (SWIT 5.5: NSP, naloxone, OST) and
 * referrals with no story of their own, drawn over every Task state.
 */
import type { Coding, Condition, Encounter, Immunization, Procedure, SupplyDelivery } from '@medplum/fhirtypes';
import { HBV_SCHEDULES } from '../services/decisions/hbv-vaccination';
import { addDays, addMonths } from '../services/decisions/dates';
import * as C from './codes';
import { type ClientBuilder, DAY_MS, cc, ref } from './fhir';
import { type ClientFacts, prescription } from './hiv';
import { TASK_STATES, referral } from './referrals';

const randomDay = (b: ClientBuilder, from: number): number => from + b.rng.int(0, Math.max(0, Math.floor((b.asOf - from) / DAY_MS))) * DAY_MS;

function condition(b: ClientBuilder, org: string, day: number, code: Coding, active: boolean): void {
  b.add<Condition & { id: string }>({
    resourceType: 'Condition',
    id: b.id(),
    clinicalStatus: cc({ system: C.CONDITION_CLINICAL, code: active ? 'active' : 'resolved' }),
    verificationStatus: cc({ system: C.CONDITION_VERIFICATION, code: 'confirmed' }),
    code: cc(code),
    subject: ref('Patient', b.patient),
    onsetDateTime: b.time(day),
    recordedDate: b.time(day),
  }, org);
}

/** TB symptom screens: people living with HIV at diagnosis and yearly, others at some clinic visits. */
export function tb(b: ClientBuilder, f: ClientFacts, start: number): void {
  const first = f.diagnosis ? Date.parse(f.diagnosis.date) : b.rng.chance(0.35) ? randomDay(b, start) : undefined;
  for (let day = first; day !== undefined && day <= b.asOf; day = b.rng.chance(0.7) ? day + b.rng.int(330, 420) * DAY_MS : undefined) {
    const positive = b.rng.chance(0.04);
    b.observation(f.clinic, b.time(day), C.TB_SCREEN, { valueCodeableConcept: cc(positive ? C.TB_SCREEN_POSITIVE : C.TB_SCREEN_NEGATIVE) }, 'survey');
    if (positive && b.rng.chance(0.75)) referral(b, { from: f.clinic, to: f.clinic, type: 'tb-diagnostics', day, status: b.rng.weighted([['completed', 60], ['in-progress', 20], ['requested', 20]] as const), urgent: true });
  }
}

/** HBsAg (and anti-HCV for people who inject drugs); vaccination of the susceptible, with drop-out between doses. */
export function hepatitis(b: ClientBuilder, f: ClientFacts, start: number): void {
  if (!b.rng.chance(0.6)) return;
  const day = randomDay(b, start);
  const positive = b.rng.chance(0.04);
  b.observation(f.clinic, b.time(day), C.HBSAG, { valueCodeableConcept: cc(positive ? C.DETECTED : C.NOT_DETECTED) });
  if (positive) condition(b, f.clinic, day, C.HEPATITIS_B, true);
  if (f.pwid && b.rng.chance(0.7)) {
    const hcv = b.rng.chance(0.15);
    b.observation(f.clinic, b.time(day), C.ANTI_HCV, { valueCodeableConcept: cc(hcv ? C.DETECTED : C.NOT_DETECTED) });
    if (hcv) referral(b, { from: f.clinic, to: f.clinic, type: 'hepatitis-treatment', day, status: b.rng.weighted(TASK_STATES) });
  }
  if (positive || !b.rng.chance(0.6)) return;
  const schedule = b.rng.chance(0.8) ? 'standard' : 'accelerated';
  const plan = HBV_SCHEDULES[schedule].doses;
  for (const [i, offset] of plan.entries()) {
    const due = offset.months !== undefined ? addMonths(day, offset.months) : addDays(day, offset.days ?? 0);
    const given = i === 0 ? day : due + b.rng.int(0, 10) * DAY_MS;
    if (given > b.asOf || (i > 0 && !b.rng.chance(0.8))) return;
    b.add<Immunization & { id: string }>({
      resourceType: 'Immunization',
      id: b.id(),
      status: 'completed',
      vaccineCode: { coding: [C.HBV_VACCINE, C.HBV_VACCINE_CVX], text: 'Hepatitis B vaccine' },
      patient: ref('Patient', b.patient),
      occurrenceDateTime: b.time(given),
      performer: [{ actor: ref('Organization', f.clinic) }],
      protocolApplied: [{ series: schedule, doseNumberPositiveInt: i + 1, seriesDosesPositiveInt: plan.length }],
    }, f.clinic);
  }
}

const STI_TREATMENT: Record<C.StiDiagnosis, C.Regimen> = {
  syphilis: 'sti-bpg', gonorrhoea: 'sti-cro-azm', chlamydia: 'sti-dox', 'urethral-discharge': 'sti-cro-azm', 'vaginal-discharge': 'sti-cro-azm', 'genital-ulcer': 'sti-bpg',
};

/** STI episodes (SWIT 5.6): a diagnosis, its treatment, and an RPR for syphilis. */
export function sti(b: ClientBuilder, f: ClientFacts, start: number): void {
  const episodes = b.rng.weighted([[0, 60], [1, 28], [2, 9], [3, 3]] as const);
  for (let i = 0; i < episodes; i++) {
    const day = randomDay(b, start);
    const options = (Object.keys(C.STI_DIAGNOSES) as C.StiDiagnosis[]).filter((d) => d !== (f.gender === 'female' ? 'urethral-discharge' : 'vaginal-discharge'));
    const dx = b.rng.pick(options);
    if (dx === 'syphilis') b.observation(f.clinic, b.time(day), C.SYPHILIS_RPR, { valueCodeableConcept: cc(C.REACTIVE) });
    condition(b, f.clinic, day, C.STI_DIAGNOSES[dx], day > b.asOf - 14 * DAY_MS);
    prescription(b, f.clinic, day, STI_TREATMENT[dx], 'completed', dx === 'chlamydia' ? 7 : 1, { text: 'As directed' });
    if (f.home !== f.clinic && b.rng.chance(0.5)) referral(b, { from: f.home, to: f.clinic, type: 'sti-treatment', day, status: 'completed' });
  }
}

/** Cervical screening for women 30–49 and women living with HIV from 25 (SWIT 5.7, DAK HIV.S.3), for some. */
export function cervical(b: ClientBuilder, f: ClientFacts, start: number): void {
  const age = new Date(b.asOf).getUTCFullYear() - f.birthYear;
  const eligible = f.gender === 'female' && ((age >= 30 && age <= 49) || (f.diagnosis !== undefined && age >= 25));
  if (!eligible || !b.rng.chance(0.45)) return;
  const day = randomDay(b, start);
  b.add<Procedure & { id: string }>({
    resourceType: 'Procedure',
    id: b.id(),
    status: 'completed',
    code: cc(C.CERVICAL_SCREENING),
    subject: ref('Patient', b.patient),
    performedDateTime: b.time(day),
    performer: [{ actor: ref('Organization', f.clinic) }],
    usedCode: [cc(b.rng.chance(0.7) ? C.CERVICAL_VIA : C.CERVICAL_HPV)],
  }, f.clinic);
}

/** Post-rape care (SWIT 5.7): the contact, PEP and emergency contraception in their windows, support referrals. */
export function postRapeCare(b: ClientBuilder, f: ClientFacts, start: number): void {
  if (!b.rng.chance(0.03)) return;
  const day = randomDay(b, start);
  b.add<Encounter & { id: string }>({
    resourceType: 'Encounter',
    id: b.id(),
    status: 'finished',
    class: { system: C.ACT_CODE, code: 'AMB', display: 'ambulatory' },
    type: [cc(C.CONTACTS['post-rape-care'])],
    subject: ref('Patient', b.patient),
    period: { start: b.time(day), end: b.time(day) },
    serviceProvider: ref('Organization', f.clinic),
  }, f.clinic);
  if (!f.diagnosis || Date.parse(f.diagnosis.date) > day) prescription(b, f.clinic, day, 'pep-tld', 'completed', 28);
  if (f.gender === 'female') prescription(b, f.clinic, day, 'ec-lng', 'completed', 1, { text: 'Single dose' });
  referral(b, { from: f.clinic, to: f.home, type: 'violence-response', day, status: b.rng.weighted(TASK_STATES) });
  referral(b, { from: f.clinic, to: f.clinic, type: 'mental-health', day: Math.min(b.asOf, addMonths(day, 3)), status: b.rng.weighted(TASK_STATES) });
}

function supply(b: ClientBuilder, org: string, day: number, item: keyof typeof C.COMMODITIES, quantity: number): void {
  b.add<SupplyDelivery & { id: string }>({
    resourceType: 'SupplyDelivery',
    id: b.id(),
    status: 'completed',
    patient: ref('Patient', b.patient),
    suppliedItem: { quantity: { value: quantity }, itemCodeableConcept: cc(C.COMMODITIES[item]) },
    occurrenceDateTime: b.time(day),
    supplier: ref('Organization', org),
  }, org);
}

/**
 * The WHO recommended minimum maintenance dose of OST, mg a day: methadone ≥ 60, buprenorphine ≥ 8
 * (DAK indicator HIV.IND.14 / PRV.14, ../shared/who-hiv-dak/C.Indicators_table/Indicator_definitions.tsv).
 * The same thresholds as the numerator of HIV.IND.14 in src/reporting/indicators.ts, which has no
 * exported constant; tests/seed/ost-doses.test.ts checks the two agree.
 */
export const OST_MIN_DOSE_MG = { methadone: 60, buprenorphine: 8 } as const;

/** The daily doses drawn, mg: the maintenance range at or above the minimum and, below it, the under-dosed. */
export const OST_DOSES_MG = { methadone: [30, 40, 50, 60, 80, 100], buprenorphine: [2, 4, 6, 8, 12, 16] } as const;

/** Share of OST prescriptions below the minimum dose, so HIV.IND.14's numerator is not everyone. */
export const OST_BELOW_MINIMUM_SHARE = 0.25;

/** Each dose of a medicine with its weight: the below-minimum share spread evenly below, the rest evenly at or above. */
function doseWeights(medicine: keyof typeof OST_DOSES_MG): (readonly [number, number])[] {
  const doses = OST_DOSES_MG[medicine];
  const below = doses.filter((mg) => mg < OST_MIN_DOSE_MG[medicine]).length;
  return doses.map((mg) => [mg, mg < OST_MIN_DOSE_MG[medicine] ? OST_BELOW_MINIMUM_SHARE / below : (1 - OST_BELOW_MINIMUM_SHARE) / (doses.length - below)] as const);
}
const OST_DOSE_WEIGHTS = { methadone: doseWeights('methadone'), buprenorphine: doseWeights('buprenorphine') };

/** Harm reduction for people who inject (SWIT 5.5): needles without limit, naloxone, OST with 28-day take-home supplies and a coded daily dose in mg. */
export function harmReduction(b: ClientBuilder, f: ClientFacts, start: number): void {
  if (!f.pwid) return;
  for (let n = b.rng.int(1, 4); n > 0; n--) supply(b, f.home, randomDay(b, start), 'nsp-kit', b.rng.pick([50, 100, 200]));
  if (b.rng.chance(0.5)) supply(b, f.home, randomDay(b, start), 'naloxone', 2);
  if (!b.rng.chance(0.4)) return;
  const methadone = b.rng.chance(0.7);
  let day = randomDay(b, start);
  if (f.home !== f.clinic) referral(b, { from: f.home, to: f.clinic, type: 'ost', day, status: 'completed' });
  for (let refill = b.rng.int(1, 3); refill > 0 && day <= b.asOf; refill--) {
    const last = refill === 1 || day + 28 * DAY_MS > b.asOf;
    // One draw per prescription, as before, so the rest of the client's stream is unchanged.
    const mg = b.rng.weighted(OST_DOSE_WEIGHTS[methadone ? 'methadone' : 'buprenorphine']);
    const dose = { text: `${methadone ? 'Methadone' : 'Buprenorphine'} ${mg} mg daily`, mg, timesPerDay: 1 };
    prescription(b, f.clinic, day, methadone ? 'ost-methadone' : 'ost-buprenorphine', last && b.rng.chance(0.85) ? 'active' : 'completed', 28, dose);
    if (last) break;
    day += b.rng.int(26, 32) * DAY_MS;
  }
}

/** A referral with no story of its own, in any of the twelve Task states. */
export function otherReferral(b: ClientBuilder, f: ClientFacts, start: number): void {
  if (!b.rng.chance(0.25)) return;
  const type = b.rng.pick(['prep', 'sti-treatment', 'mental-health', 'violence-response', 'hepatitis-treatment'] as const);
  const from = b.rng.chance(0.5) ? f.home : f.clinic;
  referral(b, { from, to: from === f.clinic ? f.home : f.clinic, type, day: randomDay(b, start), status: b.rng.weighted(TASK_STATES), urgent: b.rng.chance(0.2) });
}
