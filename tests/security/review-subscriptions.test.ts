/**
 * Security review (issues #4, #6): subscriptions as an oracle. Notifications carry ids only, but
 * *which* ids get notified says what the criteria matched. A subscriber must not be able to match
 * on data its own role or scopes may not read (an outreach worker asking "which of our clients has
 * a reactive HIV result?"), nor on another organisation's data, shared by consent or not.
 */
import { DELIVERY_QUEUE } from '../../src/subscriptions/options';
import type { DeliveryPayload } from '../../src/subscriptions/outbox';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

const A = 'sub-clinic-a';
const B = 'sub-clinic-b';
const ENDPOINT = 'http://127.0.0.1:9/hook';
const IRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] };

let t: TestApp;
type Agent = ReturnType<TestApp['as']>;

beforeAll(() => {
  // The tests look at the outbox (the jobs queued, whatever became of them); the endpoint is closed.
  t = startTestApp();
});
afterAll(() => t.close());

function post(agent: Agent, body: { resourceType: string }) {
  return agent.post(`/fhir/${body.resourceType}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
}

async function created(agent: Agent, body: { resourceType: string }): Promise<{ id: string } & Record<string, unknown>> {
  const res = await post(agent, body);
  if (res.status !== 201) throw new Error(`create failed ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

const subscription = (criteria: string) => ({ resourceType: 'Subscription', status: 'requested', reason: 'review', criteria, channel: { type: 'rest-hook', endpoint: ENDPOINT } });

/** Ids the outbox queued for notification to the subscriptions of `org`. */
async function notifiedIds(org: string): Promise<string[]> {
  const jobs = await t.store.listJobs(DELIVERY_QUEUE, { owner: org, limit: 10_000 });
  return jobs.map((j) => (j.payload as DeliveryPayload).id);
}

/** A client of `org` with a reactive result recorded by its clinician. */
async function reactiveClient(org: string): Promise<{ patient: Record<string, unknown> & { id: string }; obs: string }> {
  const patient = await created(t.as(['clinician'], org), { resourceType: 'Patient', gender: 'female' } as never);
  const obs = await created(t.as(['clinician'], org), { resourceType: 'Observation', status: 'final', code: { text: 'hiv rdt' }, valueString: 'reactive', subject: { reference: `Patient/${patient.id}` } } as never);
  return { patient, obs: obs.id };
}

/** The subscriber "touches" the client record so that Patient criteria are evaluated. */
async function touch(agent: Agent, patient: { id: string }): Promise<void> {
  const current = (await agent.get(`/fhir/Patient/${patient.id}`)).body;
  expect((await agent.put(`/fhir/Patient/${patient.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(current))).status).toBe(200);
}

test('outreach cannot subscribe with _has over Observations it may not read, nor learn results by touching clients', async () => {
  const outreach = t.as(['outreach'], A);
  const res = await post(outreach, subscription('Patient?_has:Observation:subject:value-string=reactive'));
  expect([403, 422]).toContain(res.status);
  const { patient } = await reactiveClient(A);
  await touch(outreach, patient);
  expect(await notifiedIds(A)).not.toContain(patient.id);
});

test('outreach cannot chain into a type it may not read either', async () => {
  const res = await post(t.as(['outreach'], A), subscription('Encounter?reason-reference:Observation.value-string=reactive'));
  expect([403, 422]).toContain(res.status);
});

test('a SMART token scoped to Patient and Subscription cannot reach Observations through criteria', async () => {
  const scoped = t.as(['clinician'], A, { scope: 'user/Patient.rus user/Subscription.cruds' });
  const res = await post(scoped, subscription('Patient?_has:Observation:subject:value-string=reactive'));
  expect([403, 422]).toContain(res.status);
});

test('a clinician may subscribe with _has over Observations (pinned: the check does not over-refuse)', async () => {
  const clinician = t.as(['clinician'], A);
  expect((await post(clinician, subscription('Patient?_has:Observation:subject:value-string=reactive'))).status).toBe(201);
  const { patient } = await reactiveClient(A);
  await touch(clinician, patient);
  expect(await notifiedIds(A)).toContain(patient.id);
});

test('another organisation is never notified about A\'s data, even when the client consented to share it (pinned)', async () => {
  const { patient, obs } = await reactiveClient(A);
  const clinB = t.as(['clinician'], B);
  expect((await post(clinB, subscription(`Observation?subject=Patient/${patient.id}`))).status).toBe(201);
  expect((await post(clinB, subscription('Observation?value-string=reactive'))).status).toBe(201);
  expect((await post(clinB, subscription('Patient?_has:Observation:subject:value-string=reactive'))).status).toBe(201);
  await created(t.as(['clinician'], A), {
    resourceType: 'Consent', status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patient.id}` },
    provision: { type: 'permit', actor: [{ role: IRCP, reference: { reference: `Organization/${B}` } }] },
  } as never);
  const again = await created(t.as(['clinician'], A), { resourceType: 'Observation', status: 'final', code: { text: 'hiv rdt' }, valueString: 'reactive', subject: { reference: `Patient/${patient.id}` } } as never);
  await touch(t.as(['clinician'], A), patient);
  const seen = await notifiedIds(B);
  for (const id of [obs, again.id, patient.id]) expect(seen).not.toContain(id);
});
