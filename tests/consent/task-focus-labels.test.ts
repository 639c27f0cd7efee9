/**
 * A referral Task carries the labels of the ServiceRequest it is about (src/consent/module.ts),
 * also when the ServiceRequest is written after the Task in a transaction or changed later, and
 * never from a focus the writer may not see (the label would tell them what it is about).
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { createdBy } from '../helpers/consent';

const A = 'tfl-clinic-a';
const B = 'tfl-clinic-b';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const REFERRAL_SERVICE = 'https://linkcare.example.org/fhir/CodeSystem/referral-service';

let t: TestApp;
beforeAll(() => {
  t = startTestApp();
});
afterAll(() => t.close());

const labels = (r: Resource | undefined): string[] => (r?.meta?.security ?? []).filter((s) => s.system === ACT_CODE).map((s) => s.code!).sort();
const service = (code: string) => ({ coding: [{ system: REFERRAL_SERVICE, code }] });
const task = (subject: string, focus: string, owner = A) => ({
  resourceType: 'Task', status: 'requested', intent: 'order', for: { reference: subject }, focus: { reference: focus }, owner: { reference: `Organization/${owner}` },
  code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
});
const stored = async (id: string) => (await t.store.read('Task', id))!.resource;

test('a Task written before its ServiceRequest in a transaction takes its labels', async () => {
  const p = await createdBy(t.as(['clinician'], A), { resourceType: 'Patient', gender: 'female' });
  const bundle = {
    resourceType: 'Bundle', type: 'transaction',
    entry: [
      // Not a referral (no `fulfill` code, which would need the ServiceRequest to exist first): a plain follow-up Task.
      { fullUrl: 'urn:uuid:9a1c2f3e-0000-4000-8000-000000000001', resource: { ...task(`Patient/${p.id}`, 'urn:uuid:9a1c2f3e-0000-4000-8000-000000000002'), code: undefined }, request: { method: 'POST', url: 'Task' } },
      { fullUrl: 'urn:uuid:9a1c2f3e-0000-4000-8000-000000000002', resource: { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${p.id}` }, code: service('art-initiation') }, request: { method: 'POST', url: 'ServiceRequest' } },
    ],
  };
  const res = await t.as(['clinician'], A).post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
  expect([res.status, res.body.issue?.[0]?.diagnostics]).toEqual([200, undefined]);
  const taskId = /Task\/([^/]+)/.exec((res.body as Bundle).entry![0]!.response!.location!)![1]!;
  expect(labels(await stored(taskId))).toEqual(['HIV']);
});

test('a ServiceRequest changed to another service relabels its Tasks', async () => {
  const clin = t.as(['clinician'], A);
  const p = await createdBy(clin, { resourceType: 'Patient', gender: 'female' });
  const sr = await createdBy(clin, { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${p.id}` }, code: service('legal-aid') });
  const tk = await createdBy(clin, task(`Patient/${p.id}`, `ServiceRequest/${sr.id}`));
  expect(labels(await stored(tk.id))).toEqual([]);
  const changed = await clin.put(`/fhir/ServiceRequest/${sr.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...sr, code: service('prep') }));
  expect(changed.status).toBe(200);
  expect(labels(await stored(tk.id))).toEqual(['HIV']);
});

test("a Task about another organisation's ServiceRequest the writer may not see takes no label from it", async () => {
  const p = await createdBy(t.as(['clinician'], A), { resourceType: 'Patient', gender: 'female' });
  const sr = await createdBy(t.as(['clinician'], A), { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${p.id}` }, code: service('art-initiation') });
  const q = await createdBy(t.as(['clinician'], B), { resourceType: 'Patient', gender: 'female' });
  const res = await t.as(['clinician'], B).post('/fhir/Task').set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...task(`Patient/${q.id}`, `ServiceRequest/${sr.id}`, B), code: undefined }));
  // A follow-up Task (not a referral) about it is stored, and must not tell B what A's request is about.
  expect(res.status).toBe(201);
  expect(labels(res.body)).toEqual([]);
});
