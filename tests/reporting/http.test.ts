/** $evaluate-measure, /reports/indicators and the Measures over HTTP, with the audience rules. */
import type { Measure, MeasureReport, MeasureReportGroupPopulation } from '@medplum/fhirtypes';
import type { TestApp } from '../helpers/app';
import { INDICATORS } from '../../src/reporting/indicators';
import { seedMeasures } from '../../src/reporting/measures';
import { DATA_ABSENT_REASON } from '../../src/reporting/measure-report';
import { COLUMNS } from '../../src/reporting/csv';
import { startFixtureApp } from './load';

let t: TestApp;
const Q = 'periodStart=2024-01-01&periodEnd=2024-12-31';

beforeAll(async () => {
  t = await startFixtureApp('programme');
});
afterAll(() => t.close());

const pop = (pops: MeasureReportGroupPopulation[] | undefined, code: string) => pops?.find((p) => p.code?.coding?.[0]?.code === code);
const stratum = (r: MeasureReport, s: string, v: string) =>
  r.group![0]!.stratifier!.find((x) => x.code?.[0]?.coding?.[0]?.code === s)!.stratum!.find((x) => x.value?.text === v)!;
const isMasked = (p: { count?: number; extension?: { url: string; valueCode?: string }[] } | undefined) =>
  p?.count === undefined && p?.extension?.some((e) => e.url === DATA_ABSENT_REASON && e.valueCode === 'masked') === true;

describe('Measures', () => {
  test('every indicator is a shared Measure at /fhir/Measure/<DAK id>', async () => {
    const res = await t.as(['reporting'], 'ministry').get('/fhir/Measure?_count=100').expect(200);
    const ids = (res.body.entry as { resource: Measure }[]).map((e) => e.resource.id).sort();
    expect(ids).toEqual(INDICATORS.map((i) => i.id).sort());
    const m = (await t.as(['outreach'], 'org-kp').get('/fhir/Measure/HIV.IND.21').expect(200)).body as Measure;
    expect(m.url).toBe('https://linkcare.example.org/fhir/Measure/HIV.IND.21');
    expect(m.relatedArtifact?.map((a) => a.display ?? a.citation)).toEqual(expect.arrayContaining(['GF HTS-5', 'Numerator is TX_NEW']));
    expect(m.group![0]!.population!.map((p) => p.code!.coding![0]!.code)).toEqual(['initial-population', 'numerator', 'denominator']);
  });

  test('seeding again writes nothing when the stored Measures are equal', async () => {
    expect(await t.store.unitOfWork((tx) => seedMeasures(tx))).toBe(0);
    const before = (await t.store.read('Measure', 'HIV.IND.2'))!.versionId;
    await t.store.unitOfWork(async (tx) => { await tx.put({ resourceType: 'Measure', id: 'HIV.IND.2', status: 'draft' }); });
    expect(await t.store.unitOfWork((tx) => seedMeasures(tx))).toBe(1);
    expect(Number((await t.store.read('Measure', 'HIV.IND.2'))!.versionId)).toBe(Number(before) + 2);
  });
});

describe('$evaluate-measure', () => {
  test('staff get their own organisation unsuppressed, as a summary MeasureReport', async () => {
    const res = await t.as(['clinician'], 'org-kp').get(`/fhir/Measure/HIV.IND.20/$evaluate-measure?${Q}`).expect(200);
    const r = res.body as MeasureReport;
    expect(r).toMatchObject({ resourceType: 'MeasureReport', type: 'summary', status: 'complete', period: { start: '2024-01-01', end: '2024-12-31' }, reporter: { reference: 'Organization/org-kp' } });
    expect(pop(r.group![0]!.population, 'denominator')!.count).toBe(3);
    expect(pop(r.group![0]!.population, 'numerator')!.count).toBe(2);
    expect(r.group![0]!.measureScore!.value).toBeCloseTo(0.6667, 4);
    expect(pop(stratum(r, 'gender', 'female').population, 'numerator')!.count).toBe(2);
    expect(r.group![0]!.stratifier!.map((s) => s.code![0]!.coding![0]!.code)).toEqual(['age-band', 'age-band-mer', 'gender', 'key-population', 'organization', 'setting', 'provider-type']);
  });

  test('the reporting role gets masked small cells, with data-absent-reason masked and no count', async () => {
    const r = (await t.as(['reporting'], 'ministry').get(`/fhir/Measure/HIV.IND.20/$evaluate-measure?${Q}`).expect(200)).body as MeasureReport;
    const g = r.group![0]!;
    expect(pop(g.population, 'initial-population')!.count).toBe(5);
    expect(isMasked(pop(g.population, 'numerator'))).toBe(true);
    // A rate whose numerator is masked is masked.
    expect(g.measureScore?.value).toBeUndefined();
    expect(g.measureScore?.extension?.[0]?.valueCode).toBe('masked');
    expect(isMasked(pop(stratum(r, 'organization', 'org-kp').population, 'denominator'))).toBe(true);
    expect(JSON.stringify(r)).not.toMatch(/"count":[1-4]\b/);
  });

  test('POST with a Parameters body, subject and release: staff extract marked for release is suppressed', async () => {
    const body = { resourceType: 'Parameters', parameter: [
      { name: 'periodStart', valueDate: '2024-01-01' }, { name: 'periodEnd', valueDate: '2024-12-31' },
      { name: 'subject', valueString: 'Organization/org-kp' }, { name: 'release', valueBoolean: true },
    ] };
    const r = (await t.as(['admin'], 'org-kp').post('/fhir/Measure/HIV.IND.20/$evaluate-measure').send(body).expect(200)).body as MeasureReport;
    expect(isMasked(pop(r.group![0]!.population, 'denominator'))).toBe(true);
  });

  test('refusals: another organisation (403), roles without aggregates (403), unknown measure (404), bad period (400)', async () => {
    await t.as(['clinician'], 'org-kp').get(`/fhir/Measure/HIV.IND.20/$evaluate-measure?${Q}&subject=Organization/org-clinic`).expect(403);
    await t.as(['outreach'], 'org-kp').get(`/fhir/Measure/HIV.IND.20/$evaluate-measure?${Q}`).expect(403);
    await t.as(['auditor'], 'org-kp').get(`/fhir/Measure/HIV.IND.20/$evaluate-measure?${Q}`).expect(403);
    await t.as(['reporting'], 'ministry').get(`/fhir/Measure/NOPE/$evaluate-measure?${Q}`).expect(404);
    const bad = await t.as(['reporting'], 'ministry').get('/fhir/Measure/HIV.IND.20/$evaluate-measure?periodStart=2024-12-31&periodEnd=2024-01-01').expect(400);
    expect(bad.body.issue[0].expression[0]).toContain('periodEnd');
    await t.as(['reporting'], 'ministry').get('/fhir/Measure/HIV.IND.20/$evaluate-measure?periodStart=2024-02-30&periodEnd=2024-03-01').expect(400);
    await t.as(['reporting'], 'ministry').get(`/fhir/Measure/HIV.IND.20/$evaluate-measure?${Q}&subject=Patient/c1`).expect(400);
  });
});

describe('/reports/indicators', () => {
  test('JSON: every indicator × stratum in the documented columns', async () => {
    const res = await t.as(['reporting'], 'ministry').get(`/reports/indicators?${Q}`).expect(200);
    expect(res.body.columns).toEqual([...COLUMNS]);
    expect(res.body.suppression).toEqual({ applied: true, threshold: 4 });
    const totals = (res.body.rows as Record<string, unknown>[]).filter((r) => r.stratifier === 'total');
    expect(totals.map((r) => r.indicator)).toEqual(INDICATORS.map((i) => i.id));
    const ind19 = totals.find((r) => r.indicator === 'HIV.IND.19')!;
    expect(ind19).toMatchObject({ org_unit: 'ALL', dhis2_period: '2024', denominator: 7, numerator: null, value: null, suppressed: 'numerator;value', gam: 'GAM2023 2.5' });
  });

  test('CSV: header, one line per row, masked figures empty', async () => {
    const res = await t.as(['clinician'], 'org-clinic').get(`/reports/indicators?${Q}&format=csv`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = (res.text as string).trimEnd().split('\r\n');
    expect(lines[0]).toBe(COLUMNS.join(','));
    expect(lines).toContain('HIV.IND.27,ART.1,People living with HIV on ART,2024-01-01,2024-12-31,2024,org-clinic,total,total,4,,4,,TX_CURR,"GAM2023 2.2, similar to GAM2023 2.6",GF TCS-1');
    expect(lines).toContain('HIV.IND.29,ART.3,People living with HIV on ART who have suppressed viral load,2024-01-01,2024-12-31,2024,org-clinic,organization,org-clinic,2,3,0.6667,,Similar to TX_PVLS,GAM2023 2.3,Similar to GF HIV O-12');
  });

  test('complementary suppression in the extract: the one cell that total minus the rest would give is masked too', async () => {
    const t2 = await startFixtureApp('programme', { SUPPRESSION_THRESHOLD: '2' });
    try {
      const res = await t2.as(['reporting'], 'ministry').get(`/reports/indicators?${Q}`).expect(200);
      const rows = (res.body.rows as Record<string, unknown>[]).filter((r) => r.indicator === 'HIV.IND.58');
      const cell = (s: string, v: string) => rows.find((r) => r.stratifier === s && r.stratum === v)!;
      // Contacts: 5 in all, org-clinic 2 (masked, ≤ 2), org-kp 3: shown, it would give org-clinic = 5 − 3.
      expect(cell('total', 'total').denominator).toBe(5);
      expect(cell('organization', 'org-clinic').denominator).toBeNull();
      expect(cell('organization', 'org-kp').denominator).toBeNull();
      // And kp-led (= org-kp) must not give it back either.
      expect(cell('provider-type', 'kp-led').denominator).toBeNull();
      expect(cell('gender', 'female').denominator).toBe(3);
    } finally {
      await t2.close();
    }
  });

  test('refuses unknown parameters, bad formats and unauthenticated callers', async () => {
    await t.as(['reporting'], 'ministry').get(`/reports/indicators?${Q}&format=xml`).expect(400);
    await t.as(['reporting'], 'ministry').get(`/reports/indicators?${Q}&foo=1`).expect(400);
    await t.as(['outreach'], 'org-kp').get(`/reports/indicators?${Q}`).expect(403);
    const request = (await import('supertest')).default;
    await request(t.app).get(`/reports/indicators?${Q}`).expect(401);
  });
});
