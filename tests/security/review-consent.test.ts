/**
 * Security review (issues #4, #6): consent as an attacker sees it. Organisation B is a legitimate
 * user of the system that wants A's data about a client: it tries to grant itself access, and to
 * learn about HIV-labelled (denied) data through every search feature and after revocation.
 */
import type { BundleEntry, Consent, ConsentProvision } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { IRCP, createdBy, privacyConsent } from '../helpers/consent';

const A = 'cons-clinic-a';
const B = 'cons-clinic-b';
const C = 'cons-clinic-c';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const HIV = [{ system: ACT_CODE, code: 'HIV' }];

let t: TestApp;
const clin = (org: string) => t.as(['clinician'], org);

beforeAll(() => {
  t = startTestApp();
});
afterAll(() => t.close());

const post = createdBy;

const consent = privacyConsent;

const permit = (org: string, nested?: ConsentProvision[]): ConsentProvision => ({
  type: 'permit',
  actor: [{ role: IRCP, reference: { reference: `Organization/${org}` } }],
  ...(nested ? { provision: nested } : {}),
});

const registerParams = (uic: string) => ({
  resourceType: 'Parameters',
  parameter: [
    { name: 'uic', valueString: uic },
    { name: 'birthYear', valueInteger: 1990 },
    { name: 'gender', valueCode: 'female' },
    { name: 'keyPopulation', valueCoding: { system: 'http://snomed.info/sct', code: '449344001', display: 'Sex worker' } },
  ],
});

const refs = (entries: BundleEntry[] | undefined): string[] => (entries ?? []).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`).sort();

interface Client {
  patient: string;
  hiv: string;
  plain: string;
}

/** A client of A with an HIV-labelled result and a plain observation. */
async function clientOfA(gender = 'female'): Promise<Client> {
  const p = await post(clin(A), { resourceType: 'Patient', gender });
  const obs = (extra: object) => post(clin(A), { resourceType: 'Observation', status: 'final', code: { text: 'result' }, subject: { reference: `Patient/${p.id}` }, ...extra });
  const hiv = await obs({ meta: { security: HIV }, valueString: 'reactive' });
  const plain = await obs({ valueString: 'weight 60 kg' });
  return { patient: p.id, hiv: hiv.id, plain: plain.id };
}

describe('granting oneself access', () => {
  let uicCounter = 0;
  /** A client A registered by UIC, whom B then registers too (knowing the UIC): enrolled at both. */
  async function sharedClient(): Promise<Client> {
    const uic = `REVIEW-CLIENT ${++uicCounter} 0101199${uicCounter}`;
    const a = await t.as(['outreach'], A).post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify(registerParams(uic)));
    expect(a.status).toBe(201);
    const plain = await post(clin(A), { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${a.body.id}` } });
    const hiv = await post(clin(A), { resourceType: 'Observation', status: 'final', code: { text: 'hiv' }, subject: { reference: `Patient/${a.body.id}` }, meta: { security: HIV } });
    const b = await t.as(['outreach'], B).post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify(registerParams(uic)));
    expect(b.status).toBe(200);
    expect(b.body.id).toBe(a.body.id);
    return { patient: a.body.id, hiv: hiv.id, plain: plain.id };
  }

  test('B, where the client is also enrolled, records a consent permitting B: A\'s data stays closed to B', async () => {
    const c = await sharedClient();
    expect((await clin(B).get(`/fhir/Observation/${c.plain}`)).status).toBe(404);
    await post(clin(B), consent(c.patient, permit(B)));
    expect((await clin(B).get(`/fhir/Observation/${c.plain}`)).status).toBe(404);
    expect((await clin(B).get(`/fhir/Observation/${c.hiv}`)).status).toBe(404);
    expect((await clin(B).get(`/fhir/Observation?subject=Patient/${c.patient}`)).body.total).toBe(0);
    expect(refs((await clin(B).get(`/fhir/Patient/${c.patient}/$everything`)).body.entry).filter((r) => r.startsWith('Observation/'))).toEqual([]);
  });

  test('naming A as the data holder (Consent.organization) does not help B either', async () => {
    const c = await sharedClient();
    await post(clin(B), consent(c.patient, permit(B), { organization: [{ reference: `Organization/${A}` }] }));
    expect((await clin(B).get(`/fhir/Observation/${c.plain}`)).status).toBe(404);
    expect((await clin(B).get(`/fhir/Observation?subject=Patient/${c.patient}`)).body.total).toBe(0);
  });

  test('control: the same consent recorded by A opens A\'s data to B', async () => {
    const c = await sharedClient();
    await post(clin(A), consent(c.patient, permit(B)));
    expect((await clin(B).get(`/fhir/Observation/${c.plain}`)).status).toBe(200);
    expect(refs((await clin(B).get(`/fhir/Observation?subject=Patient/${c.patient}`)).body.entry)).toEqual([`Observation/${c.hiv}`, `Observation/${c.plain}`].sort());
  });

  test('a refusal recorded by B still wins over A\'s permit for C (refusal is recorded where the client is)', async () => {
    const c = await sharedClient();
    await post(clin(A), consent(c.patient, permit(C)));
    expect((await clin(C).get(`/fhir/Observation/${c.plain}`)).status).toBe(200);
    await post(clin(B), consent(c.patient, { type: 'deny', actor: [{ role: IRCP, reference: { reference: `Organization/${C}` } }] }));
    expect((await clin(C).get(`/fhir/Observation/${c.plain}`)).status).toBe(404);
    expect((await clin(C).get(`/fhir/Observation?subject=Patient/${c.patient}`)).body.total).toBe(0);
  });

  test('an organisation where the client is not enrolled cannot record a consent at all (pinned)', async () => {
    const c = await clientOfA();
    const res = await clin(B).post('/fhir/Consent').set('Content-Type', FHIR_JSON).send(JSON.stringify(consent(c.patient, permit(B))));
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).not.toContain('Observation');
  });
});

describe('HIV-denied data stays invisible to every search feature (pinned)', () => {
  let c: Client;
  let consentId: string;
  beforeAll(async () => {
    c = await clientOfA('male');
    consentId = (await post(clin(A), consent(c.patient, permit(B, [{ type: 'deny', securityLabel: HIV }])))).id;
  });

  test.each([
    ['read', () => `Observation/${c.hiv}`, (b: { resourceType: string }) => expect(b.resourceType).toBe('OperationOutcome')],
    ['search by subject', () => `Observation?subject=Patient/${c.patient}`, (b: { entry?: BundleEntry[] }) => expect(refs(b.entry)).toEqual([`Observation/${c.plain}`])],
    ['_summary=count', () => `Observation?subject=Patient/${c.patient}&_summary=count`, (b: { total: number }) => expect(b.total).toBe(1)],
    ['_security=HIV', () => `Observation?_security=${ACT_CODE}|HIV&subject=Patient/${c.patient}`, (b: { total: number }) => expect(b.total).toBe(0)],
    ['_has over the HIV result', () => `Patient?_id=${c.patient}&_has:Observation:subject:_security=${ACT_CODE}|HIV`, (b: { total: number }) => expect(b.total).toBe(0)],
    ['_has over its value', () => `Patient?_id=${c.patient}&_has:Observation:subject:value-string=reactive`, (b: { total: number }) => expect(b.total).toBe(0)],
    ['_revinclude', () => `Patient?_id=${c.patient}&_revinclude=Observation:subject`, (b: { entry?: BundleEntry[] }) => expect(refs(b.entry)).toEqual([`Observation/${c.plain}`, `Patient/${c.patient}`].sort())],
    ['chain from the HIV result', () => `Observation?_id=${c.hiv}&subject:Patient.gender=male`, (b: { total: number }) => expect(b.total).toBe(0)],
    ['_id plus _include', () => `Observation?_id=${c.hiv},${c.plain}&_include=Observation:subject`, (b: { entry?: BundleEntry[] }) => expect(refs(b.entry)).toEqual([`Observation/${c.plain}`, `Patient/${c.patient}`].sort())],
    ['sorted by value', () => `Observation?subject=Patient/${c.patient}&_sort=-value-string`, (b: { entry?: BundleEntry[] }) => expect(refs(b.entry)).toEqual([`Observation/${c.plain}`])],
    ['$everything', () => `Patient/${c.patient}/$everything`, (b: { entry?: BundleEntry[] }) => expect(refs(b.entry).filter((r) => r.startsWith('Observation/'))).toEqual([`Observation/${c.plain}`])],
    ['compartment search', () => `Patient/${c.patient}/Observation`, (b: { entry?: BundleEntry[] }) => expect(refs(b.entry)).toEqual([`Observation/${c.plain}`])],
    ['history of the HIV result', () => `Observation/${c.hiv}/_history`, (b: { resourceType: string }) => expect(b.resourceType).toBe('OperationOutcome')],
  ])('%s', async (_name, path, check) => {
    const res = await clin(B).get(`/fhir/${path()}`);
    // The self link echoes the query; nothing else may carry the HIV result's value.
    expect(JSON.stringify({ ...res.body, link: undefined })).not.toContain('reactive');
    check(res.body);
  });

  test('a batch GET of the HIV result answers 404 like a read', async () => {
    const res = await clin(B).post('/fhir').set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Observation/${c.hiv}` } }, { request: { method: 'GET', url: `Observation/${c.plain}` } }] }));
    expect(res.body.entry.map((e: BundleEntry) => e.response!.status.slice(0, 3))).toEqual(['404', '200']);
  });

  test('revocation applies to includes, _has, $everything and compartments on the next request', async () => {
    const current = (await clin(A).get(`/fhir/Consent/${consentId}`)).body as Consent;
    expect((await clin(A).put(`/fhir/Consent/${consentId}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...current, status: 'inactive' }))).status).toBe(200);
    expect((await clin(B).get(`/fhir/Observation?subject=Patient/${c.patient}`)).body.total).toBe(0);
    expect((await clin(B).get(`/fhir/Patient/${c.patient}/$everything`)).status).toBe(404);
    expect((await clin(B).get(`/fhir/Patient/${c.patient}/Observation`)).status).toBe(404);
    expect((await clin(B).get(`/fhir/Patient?_id=${c.patient}&_revinclude=Observation:subject`)).body.total).toBe(0);
    expect((await clin(B).get(`/fhir/Observation?_id=${c.plain}&_include=Observation:subject`)).body.entry ?? []).toEqual([]);
    expect((await clin(B).get(`/fhir/Patient/${c.patient}/$care-gaps`)).status).toBe(404);
  });
});
