/** The outbox survives restarts: deliveries pending when an instance stops are made by the next one. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DELIVERY_QUEUE } from '../../src/subscriptions/options';
import { type Receiver, createTask, openStore, post, sleep, startReceiver, startSubApp, subscriptionBody, until } from './harness';

const X = 'org-x';
let dir: string;
let rx: Receiver;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'linkcare-subs-'));
  rx = await startReceiver();
});
afterEach(async () => {
  await rx.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a notification written before a stop is delivered after the restart', async () => {
  const file = join(dir, 'store.sqlite');
  // First instance: writes, but stops before any delivery (its workers never run).
  const first = startSubApp({ store: openStore(file), workers: false });
  const res = await post(first.as(['clinician'], X), 'Subscription', subscriptionBody(`Task?owner=Organization/${X}`, rx.url));
  expect(res.status).toBe(201);
  await createTask(first.as(['clinician'], X), X);
  expect(await first.store.listJobs(DELIVERY_QUEUE, { states: ['queued'] })).toHaveLength(1);
  await first.close();
  await sleep(100);
  expect(rx.received).toHaveLength(0);

  // Second instance on the same file: the pending job is delivered.
  const second = startSubApp({ store: openStore(file) });
  try {
    await rx.waitFor(1);
    await until(async () => (await second.store.listJobs(DELIVERY_QUEUE, { states: ['done'] })).length === 1, 3000, 'job done');
  } finally {
    await second.close();
  }
});

test('a retry scheduled before a stop is made by the next instance, which also clears the error', async () => {
  const file = join(dir, 'store.sqlite');
  rx.script.push(500);
  const first = startSubApp({ store: openStore(file), options: { backoffBaseMs: 1000, backoffCapMs: 1000 } });
  const res = await post(first.as(['clinician'], X), 'Subscription', subscriptionBody(`Task?owner=Organization/${X}`, rx.url));
  const id = res.body.id as string;
  await createTask(first.as(['clinician'], X), X);
  await rx.waitFor(1);
  await until(async () => (await first.store.listJobs(DELIVERY_QUEUE, { states: ['queued'] })).length === 1, 3000, 'retry queued');
  await until(async () => (await first.as(['clinician'], X).get(`/fhir/Subscription/${id}`)).body.status === 'error', 3000, 'status error');
  await first.close();
  expect(rx.received).toHaveLength(1); // the retry was not made by the first instance

  const second = startSubApp({ store: openStore(file) });
  try {
    await rx.waitFor(2);
    await until(async () => (await second.as(['clinician'], X).get(`/fhir/Subscription/${id}`)).body.status === 'active', 3000, 'status active');
    const [job] = await second.store.listJobs(DELIVERY_QUEUE);
    expect(job).toMatchObject({ state: 'done', attempts: 2 });
  } finally {
    await second.close();
  }
});
