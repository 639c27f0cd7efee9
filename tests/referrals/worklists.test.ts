/**
 * Worklists are searches: the clinic's incoming referrals by owner and status, the community
 * organisation's sent referrals by requester, overdue ones by deadline, and polling for changes
 * with _lastUpdated. Each organisation sees only its own side.
 */
import type { Bundle, Task } from '@medplum/fhirtypes';
import { type TestApp, startTestApp } from '../helpers/app';
import { CLINIC, COMMUNITY, OTHER, consentingClient, created, put, referralTask, serviceRequest } from './helpers';

let t: TestApp;
const outreach = () => t.as(['outreach'], COMMUNITY);
const clinic = () => t.as(['clinician'], CLINIC);
const ids = (b: Bundle) => (b.entry ?? []).map((e) => e.resource!.id).sort();

let open: Task;
let toOther: Task;
let overdue: Task;
let done: Task;
let draft: Task;

beforeAll(async () => {
  t = startTestApp();
  const patient = await consentingClient(outreach(), [CLINIC, OTHER]);
  const sr = (await created<{ id: string }>(outreach(), serviceRequest(patient, 'tb-diagnostics'))).id;
  open = await created<Task>(outreach(), referralTask(patient, sr, CLINIC));
  toOther = await created<Task>(outreach(), referralTask(patient, sr, OTHER));
  overdue = await created<Task>(outreach(), referralTask(patient, sr, CLINIC, { priority: 'asap', restriction: { period: { end: '2020-01-01T00:00:00Z' } } }));
  // Closed past its deadline: not overdue. The requester cancels it, which needs no other party.
  done = await created<Task>(outreach(), referralTask(patient, sr, CLINIC, { priority: 'asap', restriction: { period: { end: '2020-01-02T00:00:00Z' } } }));
  expect((await put(outreach(), { ...done, status: 'cancelled' })).status).toBe(200);
  draft = await created<Task>(outreach(), referralTask(patient, sr, CLINIC, { status: 'draft' }));
});
afterAll(() => t.close());

test("the clinic's incoming worklist: owner = the clinic, open statuses", async () => {
  const res = await clinic().get(`/fhir/Task?owner=Organization/${CLINIC}&status=requested,received,accepted,in-progress`);
  expect(res.status).toBe(200);
  expect(ids(res.body)).toEqual([open.id, overdue.id].sort());
});

test('an organisation the client never consented to sees none of the clinic worklist', async () => {
  // (OTHER would: the client's consent for OTHER permits all of the client's records.)
  const res = await t.as(['clinician'], 'stranger-org').get(`/fhir/Task?owner=Organization/${CLINIC}`);
  expect(res.body.total).toBe(0);
});

test("the community organisation's sent referrals: requester = itself", async () => {
  const res = await outreach().get(`/fhir/Task?requester=Organization/${COMMUNITY}`);
  expect(ids(res.body)).toEqual([open.id, toOther.id, overdue.id, done.id, draft.id].sort());
});

test('overdue: deadline before now and not completed', async () => {
  const now = new Date().toISOString();
  const res = await outreach().get(`/fhir/Task?deadline=lt${now}&status:not=completed,cancelled`);
  expect(ids(res.body)).toEqual([overdue.id]);
  // The same worklist for the clinic (owner side).
  const mine = await clinic().get(`/fhir/Task?owner=Organization/${CLINIC}&deadline=lt${now}&status:not=completed,cancelled`);
  expect(ids(mine.body)).toEqual([overdue.id]);
});

test('polling with _lastUpdated=gt shows the changes since the last poll', async () => {
  const since = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
  expect((await outreach().get(`/fhir/Task?requester=Organization/${COMMUNITY}&_lastUpdated=gt${since}`)).body.total).toBe(0);
  const current = (await clinic().get(`/fhir/Task/${open.id}`)).body as Task;
  expect((await put(clinic(), { ...current, status: 'received' })).status).toBe(200);
  const changed = await outreach().get(`/fhir/Task?requester=Organization/${COMMUNITY}&_lastUpdated=gt${since}`);
  expect(ids(changed.body)).toEqual([open.id]);
  expect((changed.body.entry[0].resource as Task).status).toBe('received');
});
