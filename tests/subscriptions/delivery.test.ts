/** rest-hook delivery end to end: loopback receiver, id-only content, organisation boundaries, outbox atomicity. */
import { PAYLOAD_CONTENT_URL } from '../../src/subscriptions/channel';
import { DELIVERY_QUEUE } from '../../src/subscriptions/options';
import { type Receiver, type SubApp, createTask, post, sleep, startReceiver, startSubApp, subscriptionBody, until } from './harness';
import { BASE, FHIR_JSON } from '../helpers/app';

const X = 'org-x';
const Z = 'org-z';
let t: SubApp;
let rx: Receiver;
beforeEach(async () => {
  t = startSubApp();
  rx = await startReceiver();
});
afterEach(async () => {
  await t.close();
  await rx.close();
});

async function subscribe(org: string, criteria: string, endpoint = rx.url, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await post(t.as(['clinician'], org), 'Subscription', subscriptionBody(criteria, endpoint, extra));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

test('a matching write is delivered as a ping: POST, empty body, channel headers sent', async () => {
  await subscribe(X, `Task?owner=Organization/${X}`, rx.url, { header: ['Authorization: Bearer receiver-secret'] });
  const { patientId } = await createTask(t.as(['clinician'], X), X);
  const [hit] = await rx.waitFor(1);
  expect(hit!.method).toBe('POST');
  expect(hit!.url).toBe('/hook');
  expect(hit!.body).toBe('');
  expect(hit!.headers['content-length']).toBe('0');
  expect(hit!.headers.authorization).toBe('Bearer receiver-secret');
  expect(JSON.stringify(hit!.headers)).not.toContain(patientId);
  await until(() => t.logs.join('\n').includes('"outcome":"delivered"'), 3000, 'delivery logged');
  // The receiver's secret never reaches the log.
  expect(t.logs.join('\n')).not.toContain('receiver-secret');
});

test('each attempt is audited for the subscribing organisation, naming the client by code only', async () => {
  rx.script.push(500);
  const id = await subscribe(X, `Task?owner=Organization/${X}`);
  const { taskId, patientId } = await createTask(t.as(['clinician'], X), X);
  await rx.waitFor(2);
  const auditor = t.as(['auditor'], X);
  let events: { action: string; outcome: string; outcomeDesc?: string }[] = [];
  await until(async () => {
    const res = await auditor.get(`/fhir/AuditEvent?entity=Subscription/${id}&_sort=_lastUpdated`);
    // The Subscription's own create is audited too; deliveries are the executions.
    events = (res.body.entry ?? []).map((e: { resource: { action: string } }) => e.resource).filter((e: { action: string }) => e.action === 'E');
    return events.length === 2;
  }, 3000, 'two audit events');
  expect(events.map((e) => [e.outcome, e.outcomeDesc])).toEqual([['4', 'the endpoint answered HTTP 500'], ['0', undefined]]);
  const text = JSON.stringify(events);
  expect(text).toContain(`Task/${taskId}/_history/1`);
  expect(text).toContain('client-code'); // the client, by card number
  expect(text).not.toContain(patientId);
  // Another organisation's auditor does not see them.
  const other = await t.as(['auditor'], Z).get(`/fhir/AuditEvent?entity=Subscription/${id}`);
  expect(other.body.entry ?? []).toHaveLength(0);
});

test('a notification about a Patient names the client by code in its audit event, never by Patient id', async () => {
  const id = await subscribe(X, 'Patient?gender=female');
  const created = await post(t.as(['clinician'], X), 'Patient', { resourceType: 'Patient', gender: 'female' });
  expect(created.status).toBe(201);
  await rx.waitFor(1);
  const auditor = t.as(['auditor'], X);
  let text = '';
  await until(async () => {
    const res = await auditor.get(`/fhir/AuditEvent?entity=Subscription/${id}&action=E`);
    text = JSON.stringify(res.body.entry ?? []);
    return (res.body.entry ?? []).length === 1;
  }, 3000, 'the notification event');
  expect(text).toContain('client-code');
  expect(text).not.toContain(created.body.id);
});

test('id-only: a history Bundle naming the version, with no resource content', async () => {
  await subscribe(X, `Task?owner=Organization/${X}`, rx.url, {
    payload: 'application/fhir+json', _payload: { extension: [{ url: PAYLOAD_CONTENT_URL, valueCode: 'id-only' }] },
  });
  const { taskId, patientId } = await createTask(t.as(['clinician'], X), X);
  const [hit] = await rx.waitFor(1);
  expect(hit!.headers['content-type']).toBe('application/fhir+json');
  const bundle = JSON.parse(hit!.body);
  expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'history' });
  expect(bundle.entry).toEqual([{
    fullUrl: `${BASE}/Task/${taskId}`,
    request: { method: 'POST', url: 'Task' },
    response: { status: '201', etag: 'W/"1"', lastModified: expect.any(String) },
  }]);
  // Nothing about the client or the task's content leaves.
  expect(hit!.body).not.toContain(patientId);
  expect(hit!.body).not.toContain('confidential note');
  expect(hit!.body).not.toContain('requested');
});

test('an update is delivered too (id-only names the new version)', async () => {
  await subscribe(X, `Task?owner=Organization/${X}&status=accepted`, rx.url, {
    payload: 'application/fhir+json', _payload: { extension: [{ url: PAYLOAD_CONTENT_URL, valueCode: 'id-only' }] },
  });
  const agent = t.as(['clinician'], X);
  const { taskId } = await createTask(agent, X);
  await sleep(100);
  expect(rx.received).toHaveLength(0); // status requested does not match yet
  const current = (await agent.get(`/fhir/Task/${taskId}`)).body;
  const res = await agent.put(`/fhir/Task/${taskId}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...current, status: 'accepted' }));
  expect(res.status).toBe(200);
  const [hit] = await rx.waitFor(1);
  expect(JSON.parse(hit!.body).entry[0]).toMatchObject({ request: { method: 'PUT', url: `Task/${taskId}` }, response: { status: '200', etag: 'W/"2"' } });
});

test('a subscription of another organisation never fires for resources it may not see', async () => {
  const zReceiver = await startReceiver();
  try {
    const zSub = await subscribe(Z, `Task?owner=Organization/${X}`, zReceiver.url);
    await subscribe(X, `Task?owner=Organization/${X}`);
    await createTask(t.as(['clinician'], X), X);
    await rx.waitFor(1);
    await sleep(150);
    expect(zReceiver.received).toHaveLength(0);
    const jobs = await t.store.listJobs(DELIVERY_QUEUE);
    expect(jobs.map((j) => (j.payload as { subscriptionId: string }).subscriptionId)).not.toContain(zSub);
    // Z's own Task (Z holds it) does reach Z.
    await createTask(t.as(['clinician'], Z), X);
    await zReceiver.waitFor(1);
  } finally {
    await zReceiver.close();
  }
});

test('writes that do not match the criteria, or are of another type, are not delivered', async () => {
  await subscribe(X, `Task?owner=Organization/${X}`);
  await createTask(t.as(['clinician'], X), 'org-y');
  await post(t.as(['clinician'], X), 'Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' } });
  await sleep(150);
  expect(rx.received).toHaveLength(0);
  expect(await t.store.listJobs(DELIVERY_QUEUE)).toHaveLength(0);
});

test('a write that rolls back leaves no delivery behind (the outbox commits with the write)', async () => {
  await subscribe(X, `Task?owner=Organization/${X}`);
  const agent = t.as(['clinician'], X);
  const patient = await post(agent, 'Patient', { resourceType: 'Patient', gender: 'female' });
  const bundle = {
    resourceType: 'Bundle', type: 'transaction', entry: [
      { resource: { resourceType: 'Task', status: 'requested', intent: 'order', for: { reference: `Patient/${patient.body.id}` }, owner: { reference: `Organization/${X}` } }, request: { method: 'POST', url: 'Task' } },
      // Processed after the POST (transaction order), so the Task's outbox job was already enqueued.
      { resource: { resourceType: 'Observation', id: 'absent', status: 'final', code: { text: 'x' } }, request: { method: 'PUT', url: 'Observation/absent' } },
    ],
  };
  const res = await agent.post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
  expect(res.status).toBe(404);
  await sleep(150);
  expect(rx.received).toHaveLength(0);
  expect(await t.store.listJobs(DELIVERY_QUEUE)).toHaveLength(0);
});

test('a subscription turned off stops notifying; pending deliveries of a deleted one are cancelled', async () => {
  const agent = t.as(['clinician'], X);
  const off = await post(agent, 'Subscription', { ...subscriptionBody(`Task?owner=Organization/${X}`, rx.url), status: 'off' });
  expect(off.status).toBe(201);
  await createTask(agent, X);
  await sleep(100);
  expect(rx.received).toHaveLength(0);
  expect(await t.store.listJobs(DELIVERY_QUEUE)).toHaveLength(0);

  // A receiver that keeps failing leaves a queued retry; deleting the subscription cancels it.
  rx.script.push(500, 500, 500, 500);
  const id = await subscribe(X, `Task?owner=Organization/${X}`);
  await createTask(agent, X);
  await rx.waitFor(1);
  expect((await agent.delete(`/fhir/Subscription/${id}`)).status).toBe(200);
  await until(async () => (await t.store.listJobs(DELIVERY_QUEUE, { states: ['cancelled'] })).length === 1, 3000, 'cancelled job');
  const [job] = await t.store.listJobs(DELIVERY_QUEUE, { states: ['cancelled'] });
  expect(job!.error).toBe('subscription deleted');
});

test('in one transaction Bundle, a Task after a new Subscription is matched against it (per-unit memo invalidated)', async () => {
  const agent = t.as(['clinician'], X);
  const patient = await post(agent, 'Patient', { resourceType: 'Patient', gender: 'female' });
  const task = (status: string) => ({
    resource: { resourceType: 'Task', status, intent: 'proposal', for: { reference: `Patient/${patient.body.id}` }, owner: { reference: `Organization/${X}` } },
    request: { method: 'POST', url: 'Task' },
  });
  const res = await agent.post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify({
    resourceType: 'Bundle', type: 'transaction',
    entry: [
      // The first Task makes the outbox look up (and memoise) this unit's Task subscriptions: none yet.
      task('draft'),
      { resource: subscriptionBody(`Task?owner=Organization/${X}&status=requested`, rx.url), request: { method: 'POST', url: 'Subscription' } },
      task('requested'),
    ],
  }));
  expect(res.status).toBe(200);
  const received = await rx.waitFor(1);
  await sleep(200);
  expect(received).toHaveLength(1);
});

test('subscriptions are cached per type between writes, and every Subscription write renews the cache', async () => {
  // A Task write with no subscription caches "none" for Task.
  await createTask(t.as(['clinician'], X), X);
  const id = await subscribe(X, `Task?owner=Organization/${X}`);
  await createTask(t.as(['clinician'], X), X);
  await rx.waitFor(1);
  // Turned off by its author: the next write queues nothing.
  const sub = (await t.as(['clinician'], X).get(`/fhir/Subscription/${id}`)).body;
  const off = await t.as(['clinician'], X).put(`/fhir/Subscription/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...sub, status: 'off' }));
  expect(off.status).toBe(200);
  await createTask(t.as(['clinician'], X), X);
  await sleep(300);
  expect(rx.received).toHaveLength(1);
  expect(await t.store.listJobs(DELIVERY_QUEUE)).toHaveLength(1);
});
