/**
 * Security review (issues #4, #6): bulk export with a narrowly scoped SMART token. Effective
 * permission is roles ∩ scopes (docs/security.md, Authentication); a de-identified export is still
 * record-level data of every organisation, so a reporting token scoped to aggregates only (a
 * dashboard app) must not start one.
 */
import { type TestApp, startTestApp } from '../helpers/app';
import { EXPORT_QUEUE } from '../../src/export/job';

let t: TestApp;
beforeAll(() => {
  t = startTestApp();
});
afterAll(() => t.close());

// Each test kicks off as its own user: a caller may have 3 exports in progress (src/export/options.ts),
// and whether earlier tests' jobs have finished depends on the machine's speed.
const kickOff = (scope?: string, query = '', sub = expect.getState().currentTestName ?? 'reviewer') =>
  t.as(['reporting'], 'ministry', { sub, ...(scope ? { scope } : {}) }).get(`/fhir/$export${query}`).set({ Prefer: 'respond-async', Accept: 'application/fhir+json' });

test('a reporting token scoped to aggregates exports aggregates only: no client, no clinical record', async () => {
  const scope = 'user/Measure.rs user/MeasureReport.rs';
  expect((await kickOff(scope, '?_type=Patient')).status).toBe(403);
  expect((await kickOff(scope, '?_type=Observation')).status).toBe(403);
  expect((await kickOff(scope)).status).toBe(202);
  const jobs = await t.store.listJobs(EXPORT_QUEUE, { limit: 100 });
  const types = (jobs[jobs.length - 1]!.payload as { request: { types: string[] } }).request.types;
  expect(types).toEqual(['MeasureReport']);
});

test('a token whose scopes allow no exportable type cannot start a de-identified export', async () => {
  const res = await kickOff('user/Measure.rs');
  expect(res.status).toBe(403);
  expect(res.body.issue[0].code).toBe('forbidden');
});

test('the scope also narrows _type: Observation is refused when only Patient is in scope', async () => {
  expect((await kickOff('user/Patient.rs', '?_type=Observation')).status).toBe(403);
  expect((await kickOff('user/Patient.rs', '?_type=Patient')).status).toBe(202);
});

test('control: without a scope claim, or with user/*.rs, the reporting role exports de-identified data (pinned)', async () => {
  expect((await kickOff()).status).toBe(202);
  expect((await kickOff('user/*.rs')).status).toBe(202);
});

test('outreach and auditors cannot export at all (pinned)', async () => {
  for (const role of ['outreach', 'auditor'] as const) {
    const res = await t.as([role], 'org-a').get('/fhir/$export').set({ Prefer: 'respond-async', Accept: 'application/fhir+json' });
    expect(res.status).toBe(403);
  }
});
