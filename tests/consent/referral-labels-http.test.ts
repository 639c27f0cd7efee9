/**
 * Security review finding: under the client's "everything but HIV" consent, organisation B learnt
 * the HIV status from A's ART referral (ServiceRequest code referral-service art-initiation) and an
 * Encounter whose reason is HIV infection (SNOMED CT 86406008): both read 200 and B's outreach
 * worker found the referral by `subject`. These must be hidden from B exactly like an HIV result,
 * and visible under a consent that shares everything.
 */
import type { BundleEntry, Consent, Resource } from '@medplum/fhirtypes';
import { type TestApp, startTestApp } from '../helpers/app';
import { allButHivConsent, createdBy, privacyConsent, recipient } from '../helpers/consent';

const A = 'refl-clinic-a';
const B = 'refl-clinic-b';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const REFERRAL_SERVICE = 'https://linkcare.example.org/fhir/CodeSystem/referral-service';

let t: TestApp;
const clinA = () => t.as(['clinician'], A);
const clinB = () => t.as(['clinician'], B);
const outreachB = () => t.as(['outreach'], B);

beforeAll(() => {
  t = startTestApp();
});
afterAll(() => t.close());

const labels = (r: Resource): string[] => (r.meta?.security ?? []).filter((s) => s.system === ACT_CODE).map((s) => s.code!).sort();
const ids = (entries: BundleEntry[] | undefined): string[] => (entries ?? []).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`).sort();

/** Everything shared with B: a permit naming B, with no exception. */
function fullConsent(patient: string): Consent {
  return privacyConsent(patient, { type: 'permit', actor: [recipient(B)] });
}

interface ClientOfA {
  patient: string;
  referral: Resource & { id: string };
  encounter: Resource & { id: string };
  task: Resource & { id: string };
  weight: Resource & { id: string };
}

/** A client held by A with an ART referral (and its Task), an HIV encounter and a weight, under `consent`. */
async function clientOfA(consent: (patient: string) => Consent): Promise<ClientOfA> {
  const p = await createdBy(clinA(), { resourceType: 'Patient', gender: 'female' });
  await createdBy(clinA(), consent(p.id));
  const subject = { reference: `Patient/${p.id}` };
  const referral = await createdBy(clinA(), {
    resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject,
    code: { coding: [{ system: REFERRAL_SERVICE, code: 'art-initiation', display: 'ART initiation' }] },
  });
  const encounter = await createdBy(clinA(), {
    resourceType: 'Encounter', status: 'finished', subject,
    class: { system: ACT_CODE, code: 'AMB' },
    reasonCode: [{ coding: [{ system: 'http://snomed.info/sct', code: '86406008', display: 'HIV infection' }] }],
  });
  // A referral inside A (no consent needed to send it): B can meet it only through the consent.
  const task = await createdBy(clinA(), {
    resourceType: 'Task', status: 'requested', intent: 'order', for: subject, description: 'ART initiation',
    code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
    focus: { reference: `ServiceRequest/${referral.id}` }, owner: { reference: `Organization/${A}` },
  });
  const weight = await createdBy(clinA(), { resourceType: 'Observation', status: 'final', subject, code: { text: 'weight' } });
  return { patient: p.id, referral, encounter, task, weight };
}

async function found(agent: ReturnType<TestApp['as']>, query: string): Promise<string[]> {
  const res = await agent.get(`/fhir/${query}`);
  expect(res.status).toBe(200);
  return ids(res.body.entry);
}

describe('under an "all but HIV" consent', () => {
  let c: ClientOfA;
  beforeAll(async () => {
    c = await clientOfA((patient) => allButHivConsent(patient, B));
  });

  test('the ART referral, the HIV encounter and the referral Task are labelled HIV on write', () => {
    expect(labels(c.referral)).toEqual(['HIV']);
    expect(labels(c.encounter)).toEqual(['HIV']);
    expect(labels(c.task)).toEqual(['HIV']);
    expect(labels(c.weight)).toEqual([]);
  });

  test("B's clinician cannot read them (404), while the client's other data is shared", async () => {
    expect((await clinB().get(`/fhir/ServiceRequest/${c.referral.id}`)).status).toBe(404);
    expect((await clinB().get(`/fhir/Encounter/${c.encounter.id}`)).status).toBe(404);
    expect((await clinB().get(`/fhir/Task/${c.task.id}`)).status).toBe(404);
    expect((await clinB().get(`/fhir/Observation/${c.weight.id}`)).status).toBe(200);
    expect((await clinB().get(`/fhir/Patient/${c.patient}`)).status).toBe(200);
  });

  test("B's outreach worker does not find them by the client", async () => {
    expect(await found(outreachB(), `ServiceRequest?subject=Patient/${c.patient}`)).toEqual([]);
    expect(await found(outreachB(), `Encounter?subject=Patient/${c.patient}`)).toEqual([]);
    expect(await found(outreachB(), `Task?patient=Patient/${c.patient}`)).toEqual([]);
    expect(await found(outreachB(), `ServiceRequest?code=${REFERRAL_SERVICE}|art-initiation`)).not.toContain(`ServiceRequest/${c.referral.id}`);
  });

  test("$everything for B leaves them out", async () => {
    const all = await found(clinB(), `Patient/${c.patient}/$everything?_count=1000`);
    expect(all).toContain(`Observation/${c.weight.id}`);
    for (const r of [c.referral, c.encounter, c.task]) expect(all).not.toContain(`${r.resourceType}/${r.id}`);
  });

  test('A still sees its own records', async () => {
    expect(await found(clinA(), `ServiceRequest?subject=Patient/${c.patient}`)).toEqual([`ServiceRequest/${c.referral.id}`]);
    expect((await clinA().get(`/fhir/Encounter/${c.encounter.id}`)).status).toBe(200);
  });
});

describe('under a consent that shares everything', () => {
  let c: ClientOfA;
  beforeAll(async () => {
    c = await clientOfA(fullConsent);
  });

  test("B's clinician reads the referral, the encounter and the Task", async () => {
    expect((await clinB().get(`/fhir/ServiceRequest/${c.referral.id}`)).status).toBe(200);
    expect((await clinB().get(`/fhir/Encounter/${c.encounter.id}`)).status).toBe(200);
    expect((await clinB().get(`/fhir/Task/${c.task.id}`)).status).toBe(200);
  });

  test("B's outreach worker finds them by the client", async () => {
    expect(await found(outreachB(), `ServiceRequest?subject=Patient/${c.patient}`)).toEqual([`ServiceRequest/${c.referral.id}`]);
    expect(await found(outreachB(), `Encounter?subject=Patient/${c.patient}`)).toEqual([`Encounter/${c.encounter.id}`]);
  });
});

test('an STD exception hides an STI-treatment referral, and a PSY one a mental-health referral', async () => {
  const p = await createdBy(clinA(), { resourceType: 'Patient', gender: 'male' });
  await createdBy(clinA(), privacyConsent(p.id, {
    type: 'permit', actor: [recipient(B)],
    provision: [{ type: 'deny', securityLabel: [{ system: ACT_CODE, code: 'STD' }, { system: ACT_CODE, code: 'PSY' }] }],
  }));
  const referral = (code: string) => createdBy(clinA(), {
    resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${p.id}` },
    code: { coding: [{ system: REFERRAL_SERVICE, code }] },
  });
  const sti = await referral('sti-treatment');
  const mh = await referral('mental-health');
  const tb = await referral('tb-diagnostics');
  expect(await found(outreachB(), `ServiceRequest?subject=Patient/${p.id}`)).toEqual([`ServiceRequest/${tb.id}`]);
  expect((await clinB().get(`/fhir/ServiceRequest/${sti.id}`)).status).toBe(404);
  expect((await clinB().get(`/fhir/ServiceRequest/${mh.id}`)).status).toBe(404);
});

test('a referral stored before this table (no label in meta.security) is still hidden from B on read, vread and history', async () => {
  const p = await createdBy(clinA(), { resourceType: 'Patient', gender: 'female' });
  await createdBy(clinA(), allButHivConsent(p.id, B));
  const legacy = {
    resourceType: 'ServiceRequest' as const, id: `legacy-${p.id}`, status: 'active' as const, intent: 'order' as const,
    subject: { reference: `Patient/${p.id}` }, code: { coding: [{ system: REFERRAL_SERVICE, code: 'art-initiation' }] },
  };
  // Written past the write rules, as the old rule left it: no label stored.
  await t.store.unitOfWork(async (tx) => {
    await tx.put(legacy, { custodian: A, patient: p.id });
  });
  const stored = (await clinA().get(`/fhir/ServiceRequest/${legacy.id}`)).body as Resource;
  expect(labels(stored)).toEqual([]);
  expect((await clinB().get(`/fhir/ServiceRequest/${legacy.id}`)).status).toBe(404);
  expect((await clinB().get(`/fhir/ServiceRequest/${legacy.id}/_history/${stored.meta!.versionId}`)).status).toBe(404);
  const history = await clinB().get(`/fhir/ServiceRequest/${legacy.id}/_history`);
  expect(ids(history.body.entry)).toEqual([]);
});
