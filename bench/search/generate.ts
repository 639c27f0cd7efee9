/**
 * Deterministic synthetic data for search benchmarks: the resource mix of an HIV/STI outreach
 * service (clients, rapid tests, viral loads, referrals and their tasks, prescriptions). Nobody in
 * it is real: clients are a random client code, a gender and a birth year, as the server stores them.
 */
import type {
  Condition, Encounter, MedicationRequest, Observation, Organization, Patient, Resource, ServiceRequest, Task,
} from '@medplum/fhirtypes';
import { CLIENT_CODE_SYSTEM, isValidClientCode } from '../../src/privacy/client-code';
import { Rng } from './prng';

/** Bump when the output changes, so cached databases built by an older generator are not reused. */
export const GENERATOR_VERSION = 2;

export const ORG_IDS = ['org-1', 'org-2', 'org-3', 'org-4', 'org-5'] as const;
export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
// Regimens and contact types have no single agreed international code that fits, so they use
// the project's own (example) code systems rather than borrowed codes that might be wrong.
const REGIMEN = 'https://linkcare.example.org/fhir/CodeSystem/regimen';
const CONTACT_TYPE = 'https://linkcare.example.org/fhir/CodeSystem/contact-type';

/** The two years every clinical date falls in; the date-range scenario draws its weeks from it. */
export const SPAN_START = Date.parse('2024-01-01T00:00:00Z');
export const SPAN_END = Date.parse('2026-01-01T00:00:00Z');
const DAY = 86_400_000;

/** Share of the non-Organization resources per type; Tasks pair one-to-one with ServiceRequests. */
const MIX = [
  ['Patient', 0.1],
  ['Observation', 0.55],
  ['Encounter', 0.1],
  ['ServiceRequest', 0.05],
  ['Task', 0.05],
  ['MedicationRequest', 0.1],
  ['Condition', 0.05],
] as const;
type MixType = (typeof MIX)[number][0];

/** Tests on the outreach menu, with the weight each has among Observations. */
export const TESTS = [
  { key: 'hiv-rdt', system: LOINC, code: '49905-3', display: 'HIV 1+2 Ab [Presence] by rapid immunoassay', weight: 35, category: 'laboratory' },
  { key: 'viral-load', system: LOINC, code: '23876-6', display: 'HIV 1 RNA [#/volume] in Plasma by Probe and target amplification', weight: 15, category: 'laboratory' },
  { key: 'syphilis', system: LOINC, code: '20507-0', display: 'Reagin Ab [Presence] in Serum by RPR', weight: 20, category: 'laboratory' },
  { key: 'hbsag', system: LOINC, code: '39007-0', display: 'Hepatitis B virus surface Ag [Presence]', weight: 15, category: 'laboratory' },
  { key: 'tb-screen', system: SNOMED, code: '171126009', display: 'Tuberculosis screening', weight: 15, category: 'survey' },
] as const;
type TestKey = (typeof TESTS)[number]['key'];

/** Positive / negative answers per qualitative test, and how often the positive one is drawn. */
const ANSWERS: Record<Exclude<TestKey, 'viral-load'>, { pos: [string, string]; neg: [string, string]; rate: number }> = {
  'hiv-rdt': { pos: ['713742005', 'Human immunodeficiency virus positive'], neg: ['165815009', 'HIV negative'], rate: 0.08 },
  syphilis: { pos: ['11214006', 'Reactive'], neg: ['131194007', 'Non-Reactive'], rate: 0.06 },
  hbsag: { pos: ['260373001', 'Detected'], neg: ['260415000', 'Not detected'], rate: 0.04 },
  'tb-screen': { pos: ['10828004', 'Positive'], neg: ['260385009', 'Negative'], rate: 0.03 },
};

const DIAGNOSES = [
  ['86406008', 'Human immunodeficiency virus infection', 40],
  ['76272004', 'Syphilis', 30],
  ['66071002', 'Viral hepatitis type B', 20],
  ['56717001', 'Tuberculosis', 10],
] as const;

const REGIMENS = [
  ['prep-ftc-tdf', 'Oral PrEP: emtricitabine/tenofovir disoproxil', 50],
  ['art-tld', 'ART: tenofovir/lamivudine/dolutegravir', 35],
  ['pep-28d', 'Post-exposure prophylaxis, 28 days', 10],
  ['bpg-2.4mu', 'Benzathine benzylpenicillin 2.4 MU IM', 5],
] as const;

const REFERRALS = ['HIV care and treatment', 'PrEP initiation', 'STI treatment', 'TB diagnosis', 'Hepatitis B care'];
const TASK_STATUS = [['requested', 15], ['accepted', 15], ['in-progress', 20], ['completed', 50]] as const;

/** One resource to write, with the client whose compartment it is in (its own id for a Patient). */
export interface Item {
  resource: Resource & { id: string };
  patient?: string;
  /** Patients only: the client code, claimed as a pseudonym as the server does at registration. */
  clientCode?: string;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The server draws codes from the CSPRNG; here they come from the seeded stream in the same format. */
function clientCode(rng: Rng): string {
  const payload = Array.from({ length: 10 }, () => rng.int(32));
  // Damm over GF(32) with x^5 + x^2 + 1, the check src/privacy/client-code.ts verifies.
  const times2 = (x: number) => (x & 0x10 ? ((x << 1) ^ 0b100101) : x << 1);
  let interim = 0;
  for (const v of payload) interim = times2(interim) ^ v;
  const s = [...payload, times2(interim)].map((v) => CROCKFORD[v]).join('');
  const code = `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
  if (!isValidClientCode(code)) throw new Error(`generated an invalid client code ${code}`);
  return code;
}

const instant = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const ref = (type: string, id: string) => ({ reference: `${type}/${id}` });

/** How many of each type the whole set holds: shares of N minus the Organizations, summing exactly. */
export function plannedCounts(n: number): Record<'Organization' | MixType, number> {
  const rest = n - ORG_IDS.length;
  const counts = { Organization: ORG_IDS.length } as Record<'Organization' | MixType, number>;
  let assigned = 0;
  for (const [type, share] of MIX) assigned += counts[type] = Math.floor(rest * share);
  counts.Observation += rest - assigned;
  return counts;
}

function organizations(): Item[] {
  return ORG_IDS.map((id, i) => {
    const org: Organization & { id: string } = {
      resourceType: 'Organization',
      id,
      active: true,
      type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: i === 0 ? 'prov' : 'cg' }] }],
      name: i === 0 ? 'Linkcare Clinic' : `Peer Outreach Collective ${i}`,
    };
    return { resource: org };
  });
}

/**
 * The data set in units of about `blockSize` resources. Each block opens with its new clients;
 * later resources mostly follow those clients and sometimes earlier ones (returning clients).
 * Dates advance with the block, with a few weeks of jitter, as data accrues in a live service.
 */
export function* generate(n: number, seed: number, blockSize = 1000): Generator<Item[]> {
  if (n < 100) throw new Error('--resources must be at least 100 so every block has clients');
  const rng = new Rng(seed);
  const counts = plannedCounts(n);
  const rest = n - ORG_IDS.length;
  const patients: string[] = [];
  yield organizations();
  for (let start = 0; start < rest; start += blockSize) {
    const end = Math.min(rest, start + blockSize);
    const share = (t: MixType) => Math.floor((counts[t] * end) / rest) - Math.floor((counts[t] * start) / rest);
    const firstNew = patients.length;
    const block: Item[] = [];
    const when = () => {
      const centre = SPAN_START + ((start + end) / 2 / rest) * (SPAN_END - SPAN_START);
      const ms = centre + (rng.next() - 0.5) * 40 * DAY;
      // Reflect rather than clamp at the ends, so no single instant collects a pile of results.
      return ms < SPAN_START ? 2 * SPAN_START - ms : ms >= SPAN_END ? 2 * SPAN_END - ms - 1000 : ms;
    };
    for (let i = share('Patient'); i > 0; i--) block.push(patient(rng, patients));
    const client = () => {
      const fresh = patients.length - firstNew;
      return fresh > 0 && rng.chance(0.6) ? patients[firstNew + rng.int(fresh)]! : patients[rng.int(patients.length)]!;
    };
    for (let i = share('Observation'); i > 0; i--) block.push(observation(rng, client(), when()));
    for (let i = share('Encounter'); i > 0; i--) block.push(encounter(rng, client(), when()));
    // share() gives ServiceRequest and Task the same count per block, so each Task has its request.
    for (let i = share('ServiceRequest'); i > 0; i--) block.push(...referral(rng, client(), when()));
    for (let i = share('MedicationRequest'); i > 0; i--) block.push(medication(rng, client(), when()));
    for (let i = share('Condition'); i > 0; i--) block.push(condition(rng, client(), when()));
    yield block;
  }
}

function patient(rng: Rng, patients: string[]): Item {
  const id = rng.uuid();
  const code = clientCode(rng);
  patients.push(id);
  const p: Patient & { id: string } = {
    resourceType: 'Patient',
    id,
    identifier: [{ use: 'official', system: CLIENT_CODE_SYSTEM, value: code }],
    active: true,
    gender: rng.weighted([['female', 70], ['male', 18], ['other', 12]] as const),
    birthDate: String(1968 + rng.int(40)),
    managingOrganization: ref('Organization', 'org-1'),
  };
  return { resource: p, patient: id, clientCode: code };
}

function observation(rng: Rng, subject: string, at: number): Item {
  const test = rng.weighted(TESTS.map((t) => [t, t.weight] as const));
  const obs: Observation & { id: string } = {
    resourceType: 'Observation',
    id: rng.uuid(),
    status: 'final',
    category: [{ coding: [{ system: OBS_CATEGORY, code: test.category }] }],
    code: { coding: [{ system: test.system, code: test.code, display: test.display }], text: test.display },
    subject: ref('Patient', subject),
    effectiveDateTime: instant(at),
    performer: [ref('Organization', rng.pick(ORG_IDS))],
  };
  if (test.key === 'viral-load') {
    // Most clients on treatment are suppressed; the rest spread log-uniformly up to 10^6.
    const value = rng.chance(0.8) ? 20 + rng.int(30) : Math.round(10 ** (1.7 + rng.next() * 4.3));
    obs.valueQuantity = { value, unit: 'copies/mL', system: UCUM, code: '{copies}/mL' };
  } else {
    const a = ANSWERS[test.key];
    const [code, display] = rng.chance(a.rate) ? a.pos : a.neg;
    obs.valueCodeableConcept = { coding: [{ system: SNOMED, code, display }] };
  }
  return { resource: obs, patient: subject };
}

function encounter(rng: Rng, subject: string, at: number): Item {
  const field = rng.chance(0.7);
  const enc: Encounter & { id: string } = {
    resourceType: 'Encounter',
    id: rng.uuid(),
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: field ? 'FLD' : 'AMB', display: field ? 'field' : 'ambulatory' },
    type: [{ coding: [{ system: CONTACT_TYPE, code: field ? 'outreach-contact' : 'clinic-visit' }] }],
    subject: ref('Patient', subject),
    period: { start: instant(at), end: instant(at + (10 + rng.int(50)) * 60_000) },
    serviceProvider: ref('Organization', rng.pick(ORG_IDS)),
  };
  return { resource: enc, patient: subject };
}

/** A referral and the Task that tracks it, between two organisations. */
function referral(rng: Rng, subject: string, at: number): Item[] {
  const from = rng.pick(ORG_IDS);
  const to = rng.pick(ORG_IDS.filter((o) => o !== from));
  const status = rng.weighted(TASK_STATUS);
  const reason = rng.pick(REFERRALS);
  const sr: ServiceRequest & { id: string } = {
    resourceType: 'ServiceRequest',
    id: rng.uuid(),
    status: status === 'completed' ? 'completed' : 'active',
    intent: 'order',
    code: { coding: [{ system: SNOMED, code: '3457005', display: 'Patient referral' }], text: `Referral: ${reason}` },
    subject: ref('Patient', subject),
    authoredOn: instant(at),
    requester: ref('Organization', from),
    performer: [ref('Organization', to)],
  };
  const task: Task & { id: string } = {
    resourceType: 'Task',
    id: rng.uuid(),
    status,
    intent: 'order',
    code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
    focus: ref('ServiceRequest', sr.id),
    for: ref('Patient', subject),
    authoredOn: instant(at),
    lastModified: instant(at + rng.int(10) * DAY),
    requester: ref('Organization', from),
    owner: ref('Organization', to),
    restriction: { period: { end: instant(at + 14 * DAY) } },
  };
  return [{ resource: sr, patient: subject }, { resource: task, patient: subject }];
}

function medication(rng: Rng, subject: string, at: number): Item {
  const [code, display] = rng.weighted(REGIMENS.map(([c, d, w]) => [[c, d], w] as const));
  const mr: MedicationRequest & { id: string } = {
    resourceType: 'MedicationRequest',
    id: rng.uuid(),
    status: rng.weighted([['active', 60], ['completed', 30], ['stopped', 10]] as const),
    intent: 'order',
    medicationCodeableConcept: { coding: [{ system: REGIMEN, code, display }], text: display },
    subject: ref('Patient', subject),
    authoredOn: instant(at),
    requester: ref('Organization', rng.pick(ORG_IDS)),
    dosageInstruction: [{ text: code.startsWith('bpg') ? 'Single intramuscular dose' : 'One tablet by mouth daily' }],
  };
  return { resource: mr, patient: subject };
}

function condition(rng: Rng, subject: string, at: number): Item {
  const [code, display] = rng.weighted(DIAGNOSES.map(([c, d, w]) => [[c, d], w] as const));
  const chronic = code === '86406008' || code === '66071002';
  const cond: Condition & { id: string } = {
    resourceType: 'Condition',
    id: rng.uuid(),
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: chronic || rng.chance(0.4) ? 'active' : 'resolved' }],
    },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
    code: { coding: [{ system: SNOMED, code, display }], text: display },
    subject: ref('Patient', subject),
    onsetDateTime: instant(at - rng.int(30) * DAY),
    recordedDate: instant(at),
  };
  return { resource: cond, patient: subject };
}
