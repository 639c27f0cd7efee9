/**
 * Test harness for subscriptions: an app whose subscription worker polls fast (passed as a
 * module, since the defaults poll every second), and a loopback receiver that records what
 * arrives and answers with the statuses a test scripts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import request from 'supertest';
import { type Linkcare, createLinkcare } from '../../src/app';
import { MODULES } from '../../src/modules';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import type { Store } from '../../src/store/port';
import { createResourceValidator } from '../../src/fhir/validation/validator';
import { createIndexer } from '../../src/search/indexer';
import type { Role } from '../../src/auth/principal';
import { createSubscriptionsModule } from '../../src/subscriptions/module';
import type { SubscriptionOptions } from '../../src/subscriptions/options';
import { BASE, FHIR_JSON, bearer, testConfig, testRegistry } from '../helpers/app';

export const FAST: Partial<SubscriptionOptions> = { pollMs: 25, backoffBaseMs: 50, backoffCapMs: 200, timeoutMs: 1000, leaseMs: 20_000, maxAttempts: 4 };

let validator: ReturnType<typeof createResourceValidator> | undefined;

export interface SubApp {
  linkcare: Linkcare;
  store: Store;
  logs: string[];
  as(roles: Role[], org: string): ReturnType<typeof request.agent>;
  /** Stops the workers and closes the store. */
  close(): Promise<void>;
}

/** Opens the embedded store at `file` (':memory:' for a throwaway one). */
export function openStore(file = ':memory:'): Store {
  return openSqliteStore(file, { indexer: createIndexer(testRegistry(), BASE) });
}

/** An app on `store` with every module, the subscription one built with `options`. */
export function startSubApp(
  opts: { store?: Store; options?: Partial<SubscriptionOptions>; workers?: boolean; production?: boolean; env?: Record<string, string> } = {},
): SubApp {
  const config = testConfig({ NODE_ENV: opts.production ? 'production' : 'test', ...opts.env });
  const store = opts.store ?? openStore();
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  validator ??= createResourceValidator();
  const sub = createSubscriptionsModule({ ...FAST, ...opts.options });
  const modules = MODULES.map((m) => (m.name === 'subscriptions' ? sub : m));
  const linkcare = createLinkcare({ config, store, logger, validator, registry: testRegistry(), modules, workers: opts.workers });
  return {
    linkcare,
    store,
    logs,
    as: (roles, org) => request.agent(linkcare.app).set('Authorization', bearer(roles, org)),
    close: async () => {
      await linkcare.stop();
      await store.close();
    },
  };
}

/** One request as the receiver saw it. */
export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Statuses to answer with, in order; 200 once they run out. */
  script: number[];
  /** Resolves when `n` requests have arrived (rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** A loopback HTTP receiver. */
export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const script: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = script.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    script,
    waitFor: (n, ms = 5000) => until(() => received.length >= n, ms, `${n} notification(s)`).then(() => received),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls `check` until true; rejects after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits `ms` (to show that nothing arrives). */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Subscription body for `criteria` posting to `endpoint`. */
export function subscriptionBody(criteria: string, endpoint: string, extra: Record<string, unknown> = {}) {
  return { resourceType: 'Subscription', status: 'requested', reason: 'Follow referrals', criteria, channel: { type: 'rest-hook', endpoint, ...extra } };
}

type Agent = ReturnType<typeof request.agent>;

/** POSTs a resource as JSON; returns the response. */
export function post(agent: Agent, type: string, body: object) {
  return agent.post(`/fhir/${type}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
}

/** Creates a client enrolled at the agent's organisation and a Task for them owned by `ownerOrg`. */
export async function createTask(agent: Agent, ownerOrg: string, extra: Record<string, unknown> = {}): Promise<{ patientId: string; taskId: string; versionId: string }> {
  const patient = await post(agent, 'Patient', { resourceType: 'Patient', gender: 'female' });
  if (patient.status !== 201) throw new Error(`Patient not created: ${patient.status} ${patient.text}`);
  const task = await post(agent, 'Task', {
    resourceType: 'Task', status: 'requested', intent: 'order', for: { reference: `Patient/${patient.body.id}` },
    owner: { reference: `Organization/${ownerOrg}` }, description: 'confidential note', ...extra,
  });
  if (task.status !== 201) throw new Error(`Task not created: ${task.status} ${task.text}`);
  return { patientId: patient.body.id, taskId: task.body.id, versionId: task.body.meta.versionId };
}
