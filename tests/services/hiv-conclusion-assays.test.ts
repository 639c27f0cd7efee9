/**
 * The assays an HIV conclusion rests on (DAK HIV.B7.DT.08: HIV-positive only after A1+, A2+, A3+)
 * are one set for the conclusion write rule, the HIV care episode and `$care-gaps`: the
 * organisation's own and those another organisation shares by the client's consent
 * (src/services/hiv-conclusion.ts assaysSeen), and nothing a consent does not grant. And an assay
 * written or corrected after its conclusion re-derives the episode. Over HTTP.
 */
import type { AuditEvent, Bundle, Consent, EpisodeOfCare, Parameters } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { TREAT, allButHivConsent, createdBy, privacyConsent, recipient } from '../helpers/consent';
import { example } from '../profiles/helpers';

type Json = Record<string, any>;
type Step = 'A1' | 'A2' | 'A3';
const DAK = 'http://smart.who.int/hiv/CodeSystem/HIVConcepts';
const STEP_CODE: Record<Step, string> = { A1: 'HIV.B.DE90', A2: 'HIV.B.DE91', A3: 'HIV.B.DE92' };
const COMMUNITY = 'assays-community-site';
const CLINIC = 'assays-clinic';
/** The examples' date: the conclusion's, so the diagnosis date of the episode. */
const DAY = '2025-03-04';

let t: TestApp;
let clients = 0;
const clinicianOf = (org: string) => t.as(['clinician'], org);

beforeAll(() => {
  t = startTestApp();
});
afterAll(() => t.close());

/** A client registered (by UIC) at both organisations; with `shared`, the community site shares everything it holds with the clinic. */
async function client(shared: boolean): Promise<string> {
  const uic = `ASSAYS CLIENT ${++clients} 01011990`;
  const register = (org: string) => t.as(['outreach'], org).post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify({
    resourceType: 'Parameters',
    parameter: [{ name: 'uic', valueString: uic }, { name: 'birthYear', valueInteger: 1990 }, { name: 'gender', valueCode: 'female' }],
  }));
  const patient = (await register(COMMUNITY)).body.id as string;
  expect((await register(CLINIC)).body.id).toBe(patient);
  if (shared) await createdBy(clinicianOf(COMMUNITY), privacyConsent(patient, { type: 'permit', actor: [recipient(CLINIC)] }));
  return patient;
}

/** An hiv-test-assay (the profile's example) at `step` with `result`. */
function assayBody(patient: string, step: Step, result: 'reactive' | 'non-reactive'): Json {
  const r = example<Json>('hiv-test-assay', patient);
  r.component[0].valueCodeableConcept.coding[0] = { system: DAK, code: STEP_CODE[step] };
  r.valueCodeableConcept.coding[0] = { system: 'https://linkcare.example.org/fhir/CodeSystem/test-result', code: result };
  return r;
}

/** Writes a reactive assay as `org`; returns its id. */
async function reactive(org: string, patient: string, step: Step): Promise<string> {
  return (await createdBy(clinicianOf(org), assayBody(patient, step, 'reactive'))).id;
}

/** An HIV-positive conclusion (the hiv-test-conclusion example) derived from `refs`. */
function positive(patient: string, refs: string[]): Json {
  const r = example<Json>('hiv-test-conclusion', patient);
  r.valueCodeableConcept.coding[0] = { system: DAK, code: 'HIV.B.DE112', display: 'HIV-positive' };
  r.derivedFrom = refs.map((reference) => ({ reference }));
  return r;
}

async function episodes(org: string, patient: string): Promise<EpisodeOfCare[]> {
  const res = await clinicianOf(org).get(`/fhir/EpisodeOfCare?patient=Patient/${patient}`);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? []).map((e) => e.resource as EpisodeOfCare);
}

/** The answer of `$care-gaps` for a clinician of `org`, declaring `purpose` when given. */
async function careGapsOf(org: string, patient: string, purpose?: string): Promise<Parameters> {
  const req = clinicianOf(org).get(`/fhir/Patient/${patient}/$care-gaps?asOf=2025-03-31`);
  const res = await (purpose ? req.set('X-Purpose-Of-Use', purpose) : req);
  expect(res.status).toBe(200);
  return res.body as Parameters;
}

/** Each gap of an answer as { code, rule, dueDate, … }. */
const gapsIn = (answer: Parameters): Json[] =>
  (answer.parameter ?? []).map((p) => Object.fromEntries(p.part!.map((x) => [x.name, x.valueCode ?? x.valueString ?? x.valueDate ?? x.valueReference?.reference])));

async function gapCodes(org: string, patient: string): Promise<string[]> {
  return gapsIn(await careGapsOf(org, patient)).map((g) => g.code);
}

/** The clinic writes a positive conclusion on A1 written at `a1At` and A2, A3 at the other organisation; returns A1 and the answer status. */
async function acrossOrganisations(patient: string, a1At: string): Promise<{ a1: string; conclusion: number }> {
  const rest = a1At === COMMUNITY ? CLINIC : COMMUNITY;
  const a1 = await reactive(a1At, patient, 'A1');
  const refs = [a1, await reactive(rest, patient, 'A2'), await reactive(rest, patient, 'A3')].map((id) => `Observation/${id}`);
  const res = await clinicianOf(CLINIC).post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(JSON.stringify(positive(patient, refs)));
  return { a1, conclusion: res.status };
}

test.each([
  ['A1 at the community site, A2 and A3 at the clinic', COMMUNITY],
  ['A1 at the clinic, A2 and A3 shared by the community site', CLINIC],
])('strategy completed across organisations with consent (%s): the rule and the episode both count A1+, A2+, A3+', async (_name, a1At) => {
  const patient = await client(true);
  const { conclusion } = await acrossOrganisations(patient, a1At);
  // The write rule saw A1+, A2+, A3+ (HIV.B7.DT.08): stored.
  expect(conclusion).toBe(201);
  // The episode check saw the same three: diagnosed, on the ART waitlist.
  const ep = await episodes(CLINIC, patient);
  expect(ep).toHaveLength(1);
  expect(ep[0]).toMatchObject({ status: 'waitlist', period: { start: DAY } });
});

test('without the consent the clinic sees only its own A2+, A3+: the rule refuses the positive, so there is nothing for the episode to disagree with', async () => {
  const patient = await client(false);
  expect((await acrossOrganisations(patient, COMMUNITY)).conclusion).toBe(422);
  expect(await episodes(CLINIC, patient)).toEqual([]);
});

test('an assay corrected after the conclusion re-derives the episode, also when another organisation corrects it', async () => {
  const patient = await client(true);
  const { a1, conclusion } = await acrossOrganisations(patient, COMMUNITY);
  expect(conclusion).toBe(201);
  expect(await episodes(CLINIC, patient)).toHaveLength(1);
  // The community site corrects its A1 to non-reactive: the assays no longer make a positive (HIV.B7.DT.08).
  const corrected = { ...assayBody(patient, 'A1', 'non-reactive'), id: a1, status: 'corrected' };
  const res = await clinicianOf(COMMUNITY).put(`/fhir/Observation/${a1}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(corrected));
  expect(res.status).toBe(200);
  expect(await episodes(CLINIC, patient)).toEqual([]);
});

test('an assay written after its conclusion (later in one transaction) re-derives the episode: a "positive" on A1+ alone diagnoses nobody', async () => {
  const patient = await client(false);
  const a1 = 'urn:uuid:7d0c4c1e-0b7e-4d0a-9a55-2f1f5b1c0a01';
  // Not profiled, so the write rule does not check it; the conclusion is written before its assay.
  const conclusion = positive(patient, [a1]);
  delete conclusion.meta;
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { resource: conclusion, request: { method: 'POST', url: 'Observation' } },
      { fullUrl: a1, resource: assayBody(patient, 'A1', 'reactive'), request: { method: 'POST', url: 'Observation' } },
    ],
  };
  const res = await clinicianOf(CLINIC).post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
  expect(res.status).toBe(200);
  expect(await episodes(CLINIC, patient)).toEqual([]);
  expect(await gapCodes(CLINIC, patient)).not.toContain('art-start');
});

test.each([
  ['A1 at the community site, A2 and A3 at the clinic', COMMUNITY],
  ['A1 at the clinic, A2 and A3 shared by the community site', CLINIC],
])('$care-gaps for the clinic counts the assays the episode counts (%s): with the consent it does not ask to complete the strategy', async (_name, a1At) => {
  const patient = await client(true);
  expect((await acrossOrganisations(patient, a1At)).conclusion).toBe(201);
  expect(await episodes(CLINIC, patient)).toHaveLength(1);
  const gaps = gapsIn(await careGapsOf(CLINIC, patient));
  const codes = gaps.map((g) => g.code);
  expect(codes).not.toContain('hiv-testing-incomplete');
  expect(codes).not.toContain('hiv-test');
  // Diagnosed on A1+, A2+, A3+ (HIV.B7.DT.08), as the episode says: link to care.
  expect(gaps.find((g) => g.code === 'art-start')).toMatchObject({ dueDate: DAY, rule: 'SWIT5.3' });
  // The consent that opened the other organisation's assays is named in the audit trail of the call.
  const consent = ((await clinicianOf(COMMUNITY).get(`/fhir/Consent?patient=Patient/${patient}`)).body as Bundle).entry![0]!.resource as Consent;
  const audit = ((await t.as(['auditor'], CLINIC).get('/fhir/AuditEvent?_count=500')).body as Bundle).entry!.map((e) => e.resource as AuditEvent);
  const call = audit.find((e) => e.subtype?.some((c) => c.code?.includes('care-gaps')) && e.entity?.some((x) => x.what?.reference === `Consent/${consent.id}`));
  expect(call).toBeDefined();
});

/** An unprofiled HIV-positive conclusion (the write rule does not check it) written by the clinic on A1 (`a1` at the community site) and its own A2+, A3+; returns A1's id. */
async function unprofiledAcross(patient: string, a1: 'reactive' | 'non-reactive'): Promise<string> {
  const a1Id = (await createdBy(clinicianOf(COMMUNITY), assayBody(patient, 'A1', a1))).id;
  const refs = [a1Id, await reactive(CLINIC, patient, 'A2'), await reactive(CLINIC, patient, 'A3')].map((id) => `Observation/${id}`);
  const conclusion = positive(patient, refs);
  delete conclusion.meta;
  await createdBy(clinicianOf(CLINIC), conclusion);
  return a1Id;
}

test.each([
  ['no consent', undefined],
  ['a consent that withholds HIV information from the clinic', (patient: string) => allButHivConsent(patient, CLINIC)],
  ['a consent for another organisation', (patient: string) => privacyConsent(patient, { type: 'permit', actor: [recipient('assays-elsewhere')] })],
])('with %s the clinic counts only its own A2+, A3+: $care-gaps asks to complete the strategy, and nothing of the community site\'s A1 shows or shapes the answer', async (_name, consent) => {
  const answers: Parameters[] = [];
  for (const a1 of ['reactive', 'non-reactive'] as const) {
    const patient = await client(false);
    if (consent) await createdBy(clinicianOf(COMMUNITY), consent(patient));
    const a1Id = await unprofiledAcross(patient, a1);
    const answer = await careGapsOf(CLINIC, patient);
    const gaps = gapsIn(answer);
    // A2+, A3+ without A1 follow no row of the strategy: test again from A1 (HIV.B7.DT).
    expect(gaps.find((g) => g.code === 'hiv-testing-incomplete')).toMatchObject({ rule: 'HIV.B7.DT', dueDate: DAY });
    expect(gaps.map((g) => g.code)).not.toContain('art-start');
    expect(JSON.stringify(answer)).not.toContain(a1Id);
    expect(await episodes(CLINIC, patient)).toEqual([]);
    answers.push(answer);
  }
  // Whether the hidden A1 was reactive or not makes no difference to the clinic's answer.
  expect(answers[1]).toEqual(answers[0]);
});

test('a consent limited to treatment opens the shared A1 to $care-gaps only under that purpose of use', async () => {
  const patient = await client(false);
  await createdBy(clinicianOf(COMMUNITY), privacyConsent(patient, { type: 'permit', actor: [recipient(CLINIC)], purpose: [TREAT] }));
  expect((await acrossOrganisations(patient, COMMUNITY)).conclusion).toBe(201);
  const codes = async (purpose?: string) => gapsIn(await careGapsOf(CLINIC, patient, purpose)).map((g) => g.code);
  expect(await codes()).toContain('art-start');
  expect(await codes('TREAT')).toContain('art-start');
  // Payment is not treatment: the community site's A1 is not the clinic's to count.
  const payment = await codes('HPAYMT');
  expect(payment).toContain('hiv-testing-incomplete');
  expect(payment).not.toContain('art-start');
  // The audit counts what each call read: under TREAT one record more (the shared A1), and names its consent.
  const audit = ((await t.as(['auditor'], CLINIC).get('/fhir/AuditEvent?_count=500')).body as Bundle).entry!.map((e) => e.resource as AuditEvent);
  const lastCall = (purpose: string) =>
    audit
      .filter((e) => e.subtype?.some((c) => c.code?.includes('care-gaps')) && e.purposeOfEvent?.some((p) => p.coding?.some((c) => c.code === purpose)))
      .sort((a, b) => b.recorded.localeCompare(a.recorded))[0]!;
  const results = (e: AuditEvent) => Number(/: (\d+) result/.exec(e.entity!.find((x) => x.role?.code === '24')!.description!)![1]);
  expect(results(lastCall('TREAT'))).toBe(results(lastCall('HPAYMT')) + 1);
  expect(lastCall('TREAT').entity!.some((x) => x.what?.reference?.startsWith('Consent/'))).toBe(true);
  expect(lastCall('HPAYMT').entity!.some((x) => x.what?.reference?.startsWith('Consent/'))).toBe(false);
});
