/**
 * Consent-governed sharing through the API: what organisation B sees of a client held by A,
 * before, during and after consent; deny exceptions; immediate revocation; audit naming the consent.
 */
import type { AuditEvent, BundleEntry } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { IRCP, createdBy, privacyConsent } from '../helpers/consent';

const A = 'clinic-a';
const B = 'clinic-b';
const label = (code: string) => ({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code });

let t: TestApp;
const clinicianA = () => t.as(['clinician'], A);
const clinicianB = () => t.as(['clinician'], B);

const post = createdBy;

const consentBody = privacyConsent;

const ids = (entries: BundleEntry[] | undefined): string[] => (entries ?? []).map((e) => e.resource!.id!).sort();

interface Client {
  patient: string;
  hiv: string;
  sti: string;
  plain: string;
  condition: string;
}

async function client(): Promise<Client> {
  const p = await post(clinicianA(), { resourceType: 'Patient', gender: 'female' });
  const obs = (security: object[], text: string) =>
    post(clinicianA(), { resourceType: 'Observation', status: 'final', code: { text }, subject: { reference: `Patient/${p.id}` }, ...(security.length ? { meta: { security } } : {}) });
  const hiv = await obs([label('HIV')], 'hiv conclusion');
  const sti = await obs([label('STD')], 'syphilis rdt');
  const plain = await obs([], 'weight');
  const condition = await post(clinicianA(), { resourceType: 'Condition', subject: { reference: `Patient/${p.id}` }, code: { text: 'x' } });
  return { patient: p.id, hiv: hiv.id, sti: sti.id, plain: plain.id, condition: condition.id };
}

async function seenByB(c: Client): Promise<string[]> {
  const res = await clinicianB().get(`/fhir/Observation?subject=Patient/${c.patient}`);
  expect(res.status).toBe(200);
  return ids(res.body.entry);
}

beforeAll(() => {
  t = startTestApp();
});
afterAll(() => t.close());

test('without consent, B sees nothing of a client held by A', async () => {
  const c = await client();
  expect(await seenByB(c)).toEqual([]);
  expect((await clinicianB().get(`/fhir/Observation/${c.plain}`)).status).toBe(404);
  expect((await clinicianB().get(`/fhir/Patient/${c.patient}`)).status).toBe(404);
});

test('a permit for B with an HIV deny exception: B sees the client and non-HIV data; the HIV result stays 404', async () => {
  const c = await client();
  const consent = await post(clinicianA(), consentBody(c.patient, {
    type: 'permit',
    actor: [{ role: IRCP, reference: { reference: `Organization/${B}` } }],
    purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
    provision: [{ type: 'deny', securityLabel: [label('HIV')] }],
  }));
  expect(await seenByB(c)).toEqual([c.sti, c.plain].sort());
  expect((await clinicianB().get(`/fhir/Observation/${c.sti}`)).status).toBe(200);
  expect((await clinicianB().get(`/fhir/Observation/${c.hiv}`)).status).toBe(404);
  expect((await clinicianB().get(`/fhir/Patient/${c.patient}`)).status).toBe(200);
  // A third organisation still sees nothing.
  expect((await t.as(['clinician'], 'clinic-c').get(`/fhir/Observation/${c.sti}`)).status).toBe(404);
  // B may read but never change A's data.
  const current = (await clinicianB().get(`/fhir/Observation/${c.sti}`)).body;
  expect((await clinicianB().put(`/fhir/Observation/${c.sti}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(current))).status).toBe(403);
  // The audit trail of B's read names the consent that permitted it.
  const events = (await t.as(['auditor'], B).get('/fhir/AuditEvent?_count=200')).body.entry.map((e: { resource: AuditEvent }) => e.resource) as AuditEvent[];
  const read = events.find((e) => e.subtype?.[0]?.code === 'read' && e.entity?.some((x) => x.what?.reference === `Observation/${c.sti}`));
  expect(read?.entity?.map((x) => x.what?.reference)).toContain(`Consent/${consent.id}`);
  const search = events.find((e) => e.subtype?.[0]?.code === 'search-type' && e.entity?.some((x) => x.what?.reference === `Consent/${consent.id}`));
  expect(search).toBeDefined();
});

test('class restricts to resource types: an Observation-only consent does not open Conditions', async () => {
  const c = await client();
  await post(clinicianA(), consentBody(c.patient, {
    type: 'permit',
    actor: [{ role: IRCP, reference: { reference: `Organization/${B}` } }],
    class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Observation' }],
  }));
  expect(await seenByB(c)).toEqual([c.hiv, c.sti, c.plain].sort());
  expect((await clinicianB().get(`/fhir/Condition/${c.condition}`)).status).toBe(404);
  expect((await clinicianB().get(`/fhir/Condition?subject=Patient/${c.patient}`)).body.total).toBe(0);
});

test('category restriction: an STI-only consent (deny base, nested permit for B) opens only STI data', async () => {
  const c = await client();
  await post(clinicianA(), consentBody(c.patient, {
    type: 'deny',
    provision: [{ type: 'permit', actor: [{ role: IRCP, reference: { reference: `Organization/${B}` } }], securityLabel: [label('STD')] }],
  }));
  expect(await seenByB(c)).toEqual([c.sti]);
});

test('revocation takes effect on the very next request: inactive, then deleted', async () => {
  const c = await client();
  const body = consentBody(c.patient, { type: 'permit', actor: [{ role: IRCP, reference: { reference: `Organization/${B}` } }] });
  const consent = await post(clinicianA(), body);
  expect(await seenByB(c)).toHaveLength(3);
  const off = await clinicianA().put(`/fhir/Consent/${consent.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...body, id: consent.id, status: 'inactive' }));
  expect(off.status).toBe(200);
  expect(await seenByB(c)).toEqual([]);
  expect((await clinicianB().get(`/fhir/Observation/${c.plain}`)).status).toBe(404);
  const on = await clinicianA().put(`/fhir/Consent/${consent.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...body, id: consent.id }));
  expect(on.status).toBe(200);
  expect(await seenByB(c)).toHaveLength(3);
  expect((await clinicianA().delete(`/fhir/Consent/${consent.id}`)).status).toBe(200);
  expect(await seenByB(c)).toEqual([]);
});

test('expiry: a consent whose period has ended shares nothing', async () => {
  const c = await client();
  await post(clinicianA(), consentBody(c.patient, {
    type: 'permit',
    actor: [{ role: IRCP, reference: { reference: `Organization/${B}` } }],
    period: { start: '2025-01-01T00:00:00Z', end: '2025-12-31T00:00:00Z' },
  }));
  expect(await seenByB(c)).toEqual([]);
});

test('several consents: a later refusal (deny) wins over an earlier permit; refusal is stored as data', async () => {
  const c = await client();
  await post(clinicianA(), consentBody(c.patient, { type: 'permit', actor: [{ role: IRCP, reference: { reference: `Organization/${B}` } }] }));
  expect(await seenByB(c)).toHaveLength(3);
  const refusal = await post(clinicianA(), consentBody(c.patient, { type: 'deny', actor: [{ role: IRCP, reference: { reference: `Organization/${B}` } }] }));
  expect(refusal.id).toBeDefined();
  expect(await seenByB(c)).toEqual([]);
  expect((await clinicianB().get(`/fhir/Patient/${c.patient}`)).status).toBe(404);
});

test('a consent is captured only where the client is enrolled, and must say permit or deny', async () => {
  const c = await client();
  const elsewhere = await clinicianB().post('/fhir/Consent').set('Content-Type', FHIR_JSON)
    .send(JSON.stringify(consentBody(c.patient, { type: 'permit', actor: [{ role: IRCP, reference: { reference: `Organization/${B}` } }] })));
  expect(elsewhere.status).toBe(422);
  const noRule = await clinicianA().post('/fhir/Consent').set('Content-Type', FHIR_JSON)
    .send(JSON.stringify(consentBody(c.patient, { actor: [{ role: IRCP, reference: { reference: `Organization/${B}` } }] })));
  expect(noRule.status).toBe(422);
  expect(noRule.body.issue[0].expression).toEqual(['Consent.provision.type']);
});

test('a consent that runs out stops sharing at that instant, with no write in between (cached grants expire)', async () => {
  const c = await client();
  const end = new Date(Date.now() + 1500).toISOString();
  await post(clinicianA(), consentBody(c.patient, { type: 'permit', actor: [{ role: IRCP, reference: { reference: `Organization/${B}` } }], period: { end } }));
  expect(await seenByB(c)).toHaveLength(3);
  await new Promise((r) => setTimeout(r, 1600));
  expect(await seenByB(c)).toEqual([]);
});
