/**
 * Task/$referral-metrics over HTTP on fixtures/referrals/metrics.json, whose answers are known:
 * the clock is set for each step so that the Task history carries the fixture's times. Only
 * referrals the caller may see are counted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Parameters, ParametersParameter, Task } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import type { TaskStatus } from '../../src/referrals/state-machine';
import { COMMUNITY, OTHER, type Agent, created, put, referralTask, serviceRequest } from './helpers';

interface FixtureReferral {
  name: string;
  service: string;
  create: TaskStatus;
  steps: [number, TaskStatus][];
  deadlineHours?: number;
  authoredOn?: string;
}
interface Counts { total: number; sent: number; accepted: number; completed: number; overdue: number }
const FIXTURE = JSON.parse(readFileSync(join(__dirname, '../../fixtures/referrals/metrics.json'), 'utf8')) as {
  t0: string;
  nowHours: number;
  referrals: FixtureReferral[];
  expected: Counts & { status: Record<string, number>; acceptanceRate: number; completionRate: number; medianTimeToAcceptance: number; medianTimeToCompletion: number; service: Record<string, Counts> };
};

const T0 = Date.parse(FIXTURE.t0);
const at = (h: number) => new Date(T0 + h * 3_600_000);
const REASON = { statusReason: { text: 'fixture' } };

let t: TestApp;
// Referrals inside one organisation: it is requester and owner, so it can walk every step itself.
const community = () => t.as(['outreach'], COMMUNITY);

/** Only Date is faked: timers, ticks and I/O run as usual. */
function setClock(d: Date): void {
  jest.setSystemTime(d);
}

async function step(agent: Agent, id: string, status: TaskStatus): Promise<void> {
  const cur = (await agent.get(`/fhir/Task/${id}`)).body as Task;
  const extra = status === 'rejected' || status === 'on-hold' || status === 'failed' ? REASON : status === 'completed' ? { output: [{ type: { text: 'outcome' }, valueCodeableConcept: { text: 'done' } }] } : {};
  const res = await put(agent, { ...cur, status, ...extra });
  if (res.status !== 200) throw new Error(`step ${status} failed ${res.status}: ${JSON.stringify(res.body)}`);
}

beforeAll(async () => {
  jest.useFakeTimers({ doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
  setClock(at(-1));
  t = startTestApp();
  const patient = (await created<{ id: string }>(community(), { resourceType: 'Patient', gender: 'female' })).id;
  const ids = new Map<string, string>();
  setClock(at(0));
  for (const r of FIXTURE.referrals) {
    const sr = (await created<{ id: string }>(community(), serviceRequest(patient, r.service))).id;
    const task = await created<Task>(community(), referralTask(patient, sr, COMMUNITY, {
      status: r.create,
      ...(r.authoredOn ? { authoredOn: r.authoredOn } : {}),
      ...(r.deadlineHours !== undefined ? { priority: 'asap', restriction: { period: { end: at(r.deadlineHours).toISOString() } } } : {}),
    }));
    ids.set(r.name, task.id!);
  }
  // Every step in time order, so that each version is written at its fixture time.
  const steps = FIXTURE.referrals.flatMap((r) => r.steps.map(([h, s]) => ({ h, s, id: ids.get(r.name)! }))).sort((a, b) => a.h - b.h);
  for (const s of steps) {
    setClock(at(s.h));
    await step(community(), s.id, s.s);
  }
  // Another organisation's referral, in the period: never counted for the community organisation.
  const elsewhere = t.as(['clinician'], OTHER);
  const p2 = (await created<{ id: string }>(elsewhere, { resourceType: 'Patient', gender: 'male' })).id;
  const sr2 = (await created<{ id: string }>(elsewhere, serviceRequest(p2, 'prep'))).id;
  await created(elsewhere, referralTask(p2, sr2, OTHER));
  setClock(at(FIXTURE.nowHours));
});
afterAll(async () => {
  await t.close();
  jest.useRealTimers();
});

const one = (b: Parameters, name: string) => b.parameter?.find((p) => p.name === name);
const all = (b: Parameters, name: string) => (b.parameter ?? []).filter((p) => p.name === name);
const part = (p: ParametersParameter, name: string) => p.part?.find((q) => q.name === name);
const countsOf = (parts: ParametersParameter[] | undefined): Counts =>
  Object.fromEntries(['total', 'sent', 'accepted', 'completed', 'overdue'].map((k) => [k, parts?.find((q) => q.name === k)?.valueInteger])) as unknown as Counts;

test('known answers for the community organisation over March 2025', async () => {
  const res = await community().get('/fhir/Task/$referral-metrics?periodStart=2025-03-01&periodEnd=2025-03-31');
  expect(res.status).toBe(200);
  const body = res.body as Parameters;
  const e = FIXTURE.expected;
  expect(countsOf(body.parameter)).toEqual({ total: e.total, sent: e.sent, accepted: e.accepted, completed: e.completed, overdue: e.overdue });
  expect(Object.fromEntries(all(body, 'status').map((p) => [part(p, 'code')!.valueCode, part(p, 'count')!.valueInteger]))).toEqual(e.status);
  expect(one(body, 'acceptanceRate')?.valueDecimal).toBe(e.acceptanceRate);
  expect(one(body, 'completionRate')?.valueDecimal).toBe(e.completionRate);
  expect(one(body, 'medianTimeToAcceptance')?.valueQuantity).toEqual({ value: e.medianTimeToAcceptance, unit: 'h', system: 'http://unitsofmeasure.org', code: 'h' });
  expect(one(body, 'medianTimeToCompletion')?.valueQuantity?.value).toBe(e.medianTimeToCompletion);
  const byService = Object.fromEntries(all(body, 'service').map((p) => [part(p, 'type')!.valueCoding!.code, countsOf(p.part)]));
  expect(byService).toEqual(e.service);
});

test('POST with Parameters gives the same answer; organization narrows to one side', async () => {
  const body = { resourceType: 'Parameters', parameter: [{ name: 'periodStart', valueDate: '2025-03-01' }, { name: 'periodEnd', valueDate: '2025-03-31' }, { name: 'organization', valueString: `Organization/${OTHER}` }] };
  const res = await community().post('/fhir/Task/$referral-metrics').set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
  expect(res.status).toBe(200);
  expect(one(res.body, 'total')?.valueInteger).toBe(0);
});

test("another organisation's metrics count only its own referral", async () => {
  const res = await t.as(['clinician'], OTHER).get('/fhir/Task/$referral-metrics?periodStart=2025-03-01&periodEnd=2025-03-31');
  expect(countsOf((res.body as Parameters).parameter)).toEqual({ total: 1, sent: 1, accepted: 0, completed: 0, overdue: 0 });
});

test('input errors: missing period is 400 naming it; reversed period is 422; reporting role is 403', async () => {
  const missing = await community().get('/fhir/Task/$referral-metrics?periodStart=2025-03-01');
  expect(missing.status).toBe(400);
  expect(JSON.stringify(missing.body)).toContain('periodEnd');
  expect((await community().get('/fhir/Task/$referral-metrics?periodStart=2025-03-31&periodEnd=2025-03-01')).status).toBe(422);
  expect((await t.as(['reporting'], COMMUNITY).get('/fhir/Task/$referral-metrics?periodStart=2025-03-01&periodEnd=2025-03-31')).status).toBe(403);
});

test('the operation is declared: OperationDefinition served', async () => {
  const res = await community().get('/fhir/OperationDefinition/referral-metrics');
  expect(res.status).toBe(200);
  expect(res.body.code).toBe('referral-metrics');
});
