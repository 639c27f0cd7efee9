/** Failed deliveries: retry with backoff, Subscription.status/error, giving up, unreachable and slow receivers. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DELIVERY_QUEUE } from '../../src/subscriptions/options';
import { type Receiver, type SubApp, createTask, post, startReceiver, startSubApp, subscriptionBody, until } from './harness';

const X = 'org-x';
let t: SubApp | undefined;
let rx: Receiver;
beforeEach(async () => {
  rx = await startReceiver();
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  await rx.close();
});

async function subscribe(endpoint: string): Promise<string> {
  const res = await post(t!.as(['clinician'], X), 'Subscription', subscriptionBody(`Task?owner=Organization/${X}`, endpoint));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** Every stored version of the subscription, oldest first, as {status, error}. */
async function statusHistory(id: string): Promise<{ status: string; error?: string }[]> {
  const res = await t!.as(['clinician'], X).get(`/fhir/Subscription/${id}/_history`);
  expect(res.status).toBe(200);
  return (res.body.entry as { resource: { status: string; error?: string } }[]).map((e) => ({ status: e.resource.status, ...(e.resource.error ? { error: e.resource.error } : {}) })).reverse();
}

test('a receiver answering 500 gets the notification again; status goes error, then back to active', async () => {
  t = startSubApp({ options: { backoffBaseMs: 100 } });
  rx.script.push(500);
  const id = await subscribe(rx.url);
  await createTask(t.as(['clinician'], X), X);
  const [first, second] = await rx.waitFor(2);
  expect(first!.body).toBe(second!.body);
  await until(async () => (await statusHistory(id)).length === 3, 3000, 'status back to active');
  expect(await statusHistory(id)).toEqual([
    { status: 'active' },
    { status: 'error', error: 'Delivery failed: the endpoint answered HTTP 500; retrying' },
    { status: 'active' },
  ]);
  const [job] = await t.store.listJobs(DELIVERY_QUEUE);
  expect(job).toMatchObject({ state: 'done', attempts: 2 });
  expect(job!.error).toBeUndefined();
});

test('retries back off exponentially', async () => {
  t = startSubApp({ options: { backoffBaseMs: 100, backoffCapMs: 10_000, maxAttempts: 4 } });
  rx.script.push(503, 503, 503);
  const arrivals: number[] = [];
  await subscribe(rx.url);
  await createTask(t.as(['clinician'], X), X);
  await until(() => {
    while (arrivals.length < rx.received.length) arrivals.push(Date.now());
    return rx.received.length >= 4;
  }, 5000, 'four attempts');
  const gaps = arrivals.slice(1).map((a, i) => a - arrivals[i]!);
  // 100, 200, 400 ms (plus polling slack).
  expect(gaps[0]).toBeGreaterThanOrEqual(90);
  expect(gaps[1]).toBeGreaterThanOrEqual(190);
  expect(gaps[2]).toBeGreaterThanOrEqual(390);
});

test('after maxAttempts the delivery fails for good and the error says so, without the URL', async () => {
  t = startSubApp({ options: { maxAttempts: 3, backoffBaseMs: 20 } });
  rx.script.push(500, 500, 500, 500, 500);
  const id = await subscribe(`${rx.url}?token=query-secret`);
  await createTask(t.as(['clinician'], X), X);
  await until(async () => (await t!.store.listJobs(DELIVERY_QUEUE, { states: ['failed'] })).length === 1, 4000, 'failed job');
  expect(rx.received).toHaveLength(3);
  const sub = (await t.as(['clinician'], X).get(`/fhir/Subscription/${id}`)).body;
  expect(sub.status).toBe('error');
  expect(sub.error).toBe('Delivery failed: the endpoint answered HTTP 500; gave up after 3 attempts');
  const everything = JSON.stringify(await statusHistory(id)) + t.logs.join('\n');
  expect(everything).not.toContain('query-secret');
  expect(everything).not.toContain('127.0.0.1');
});

test('an unreachable endpoint is reported generically (the error code goes to the log only)', async () => {
  t = startSubApp({ options: { maxAttempts: 1 } });
  // A port that was just free: nothing listens there.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  const id = await subscribe(`http://127.0.0.1:${port}/hook`);
  await createTask(t.as(['clinician'], X), X);
  await until(async () => (await t!.store.listJobs(DELIVERY_QUEUE, { states: ['failed'] })).length === 1, 3000, 'failed job');
  const sub = (await t.as(['clinician'], X).get(`/fhir/Subscription/${id}`)).body;
  expect(sub.error).toBe('Delivery failed: the endpoint could not be reached; gave up after 1 attempts');
  expect(t.logs.join('\n')).toContain('"detail":"ECONNREFUSED"');
});

test('a receiver that does not answer in time counts as a failure', async () => {
  t = startSubApp({ options: { maxAttempts: 1, timeoutMs: 200 } });
  const hanging = http.createServer(() => undefined); // never responds
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
  try {
    const id = await subscribe(`http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hook`);
    await createTask(t.as(['clinician'], X), X);
    await until(async () => (await t!.store.listJobs(DELIVERY_QUEUE, { states: ['failed'] })).length === 1, 3000, 'failed job');
    const sub = (await t.as(['clinician'], X).get(`/fhir/Subscription/${id}`)).body;
    // Silence reads like a closed port: Subscription.error must not tell filtered from closed.
    expect(sub.error).toBe('Delivery failed: the endpoint could not be reached; gave up after 1 attempts');
    expect(t.logs.join('\n')).toContain('"detail":"no answer within 0.2 s"');
  } finally {
    hanging.closeAllConnections();
    await new Promise<void>((r) => hanging.close(() => r()));
  }
});

test('a redirect is not followed', async () => {
  t = startSubApp({ options: { maxAttempts: 1 } });
  rx.script.push(307);
  const id = await subscribe(rx.url);
  await createTask(t.as(['clinician'], X), X);
  await until(async () => (await t!.store.listJobs(DELIVERY_QUEUE, { states: ['failed'] })).length === 1, 3000, 'failed job');
  expect(rx.received).toHaveLength(1);
  expect((await t.as(['clinician'], X).get(`/fhir/Subscription/${id}`)).body.error).toContain('redirects are not followed');
});
