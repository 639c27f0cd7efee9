/**
 * Suppressed reports cover whole reporting periods only (src/reporting/period.ts isReportingPeriod):
 * with free dates, two reports a day apart differ by one client, and suppressing each report
 * cannot hide that difference.
 */
import { type TestApp, startTestApp } from '../helpers/app';
import { isReportingPeriod } from '../../src/reporting/period';

test.each([
  ['2024-02-01', '2024-02-29', 'a calendar month (leap February)'],
  ['2024-04-01', '2024-06-30', 'a calendar quarter'],
  ['2024-07-01', '2024-12-31', 'the second half year'],
  ['2024-01-01', '2024-12-31', 'a calendar year'],
  ['2023-10-01', '2024-09-30', 'a fiscal year from October'],
])('%s..%s is a reporting period: %s', (start, end) => {
  expect(isReportingPeriod(start, end)).toBe(true);
});

test.each([
  ['2024-01-01', '2024-02-11', 'ends inside a month'],
  ['2024-01-02', '2024-01-31', 'starts inside a month'],
  ['2024-02-01', '2024-04-30', 'three months that are no calendar quarter'],
  ['2024-03-01', '2024-08-31', 'six months that are no half year'],
  ['2024-01-01', '2024-02-29', 'two months'],
  ['2024-01-01', '2025-01-31', 'thirteen months'],
])('%s..%s is not: %s', (start, end) => {
  expect(isReportingPeriod(start, end)).toBe(false);
});

describe('over HTTP', () => {
  let t: TestApp;
  beforeAll(() => {
    t = startTestApp();
  });
  afterAll(() => t.close());
  const ODD = 'periodStart=2024-01-01&periodEnd=2024-02-11';

  test('the reporting role gets 400 for a period that is no reporting period, on both endpoints', async () => {
    const extract = await t.as(['reporting'], 'ministry').get(`/reports/indicators?${ODD}`).expect(400);
    expect(extract.body.issue[0]).toMatchObject({ code: 'invalid', expression: ['periodEnd'] });
    const measure = await t.as(['reporting'], 'ministry').get(`/fhir/Measure/HIV.IND.20/$evaluate-measure?${ODD}`).expect(400);
    expect(measure.body.issue[0].diagnostics).toMatch(/calendar month/);
    await t.as(['reporting'], 'ministry').get('/reports/indicators?periodStart=2024-01-01&periodEnd=2024-01-31').expect(200);
  });

  test('staff get any period for their own unsuppressed report, but not for an extract marked for release', async () => {
    await t.as(['clinician'], 'org-kp').get(`/reports/indicators?${ODD}`).expect(200);
    await t.as(['clinician'], 'org-kp').get(`/reports/indicators?${ODD}&release=true`).expect(400);
  });
});
