/** Every indicator on the synthetic programme, against hand-computed counts per stratum (tests/reporting/expected.ts). */
import type { Patient } from '@medplum/fhirtypes';
import type { TestApp } from '../helpers/app';
import { INDICATORS } from '../../src/reporting/indicators';
import { type Figure, type IndicatorResult, evaluateIndicator } from '../../src/reporting/evaluate';
import { EXPECTED, IND27_BY_END, ORG_KP_IND20 } from './expected';
import { startFixtureApp } from './load';

const PERIOD = { periodStart: '2024-01-01', periodEnd: '2024-12-31' };
let t: TestApp;

beforeAll(async () => {
  t = await startFixtureApp('programme');
});
afterAll(() => t.close());

const n = (f: Figure): number => ('count' in f ? f.count : NaN);

/** Every stratum as "stratifier|value" → [population, numerator]. */
function strata(r: IndicatorResult): Record<string, [number, number]> {
  return Object.fromEntries(r.rows.map((row) => [`${row.stratifier}|${row.value}`, [n(row.population), n(row.numerator)]]));
}

test('every indicator has hand-computed expectations', () => {
  expect(Object.keys(EXPECTED).sort()).toEqual(INDICATORS.map((i) => i.id).sort());
});

describe.each(INDICATORS.map((i) => [i.id, i] as const))('%s', (id, indicator) => {
  test('total and every stratum match the hand count', async () => {
    const r = await evaluateIndicator(t.store.reports!(), indicator, PERIOD, { suppress: false, threshold: 4 });
    const want = EXPECTED[id]!;
    expect([n(r.total.population), n(r.total.numerator)]).toEqual(want.total);
    const got = strata(r);
    for (const [key, pair] of Object.entries(want.strata)) expect([key, got[key]]).toEqual([key, pair]);
    if (want.complete) for (const [key, pair] of Object.entries(got)) expect([key, pair]).toEqual([key, want.strata[key] ?? [0, 0]]);
    // Every stratifier partitions the population.
    for (const s of ['age-band', 'age-band-mer', 'gender', 'key-population', 'organization', 'setting', 'provider-type']) {
      const rows = r.rows.filter((row) => row.stratifier === s);
      expect(rows.reduce((a, row) => a + n(row.population), 0)).toBe(want.total[0]);
      expect(rows.reduce((a, row) => a + n(row.numerator), 0)).toBe(want.total[1]);
    }
  });
});

test("an organisation's own report counts only the data it holds", async () => {
  const ind20 = INDICATORS.find((i) => i.id === 'HIV.IND.20')!;
  const r = await evaluateIndicator(t.store.reports!(), ind20, { ...PERIOD, custodian: 'org-kp' }, { suppress: false, threshold: 4 });
  expect([n(r.total.population), n(r.total.numerator)]).toEqual(ORG_KP_IND20);
  expect(r.rows.filter((row) => row.stratifier === 'organization').map((row) => row.value)).toEqual(['org-kp']);
});

test('the period bounds are inclusive whole days', async () => {
  const ind19 = INDICATORS.find((i) => i.id === 'HIV.IND.19')!;
  // Only c2's test on 2024-03-01 falls in [2024-03-01, 2024-03-01].
  const day = await evaluateIndicator(t.store.reports!(), ind19, { periodStart: '2024-03-01', periodEnd: '2024-03-01' }, { suppress: false, threshold: 4 });
  expect([n(day.total.population), n(day.total.numerator)]).toEqual([1, 1]);
  const before = await evaluateIndicator(t.store.reports!(), ind19, { periodStart: '2024-02-11', periodEnd: '2024-02-29' }, { suppress: false, threshold: 4 });
  expect(n(before.total.population)).toBe(0);
});

test('HIV.IND.27 counts a client on ART while no more than 28 days late for the expected pick-up (DAK HIV.IND.28)', async () => {
  const ind27 = INDICATORS.find((i) => i.id === 'HIV.IND.27')!;
  for (const [periodEnd, want] of Object.entries(IND27_BY_END)) {
    const r = await evaluateIndicator(t.store.reports!(), ind27, { periodStart: '2024-01-01', periodEnd }, { suppress: false, threshold: 4 });
    expect([periodEnd, n(r.total.population), n(r.total.numerator)]).toEqual([periodEnd, ...want]);
  }
});

test("a deleted Patient's events still count, under an unknown age band and gender (the client strata read only the Patient index)", async () => {
  const ind19 = INDICATORS.find((i) => i.id === 'HIV.IND.19')!;
  const day = { periodStart: '2024-03-01', periodEnd: '2024-03-01' };
  const strataOf = async () => strata(await evaluateIndicator(t.store.reports!(), ind19, day, { suppress: false, threshold: 4 }));
  // c2 (female, born 2006-03) was tested that day.
  expect(await strataOf()).toMatchObject({ 'gender|female': [1, 1], 'age-band-mer|15-19': [1, 1] });
  const c2 = (await t.store.read('Patient', 'c2'))!;
  await t.store.unitOfWork((tx) => tx.remove('Patient', 'c2'));
  try {
    const after = await strataOf();
    expect(after).toMatchObject({ 'gender|unknown': [1, 1], 'age-band-mer|unknown': [1, 1] });
    expect(after['gender|female'] ?? [0, 0]).toEqual([0, 0]);
  } finally {
    await t.store.unitOfWork((tx) => tx.put(c2.resource as Patient & { id: string }, { custodian: c2.custodian, method: 'PUT' }));
  }
  expect(await strataOf()).toMatchObject({ 'gender|female': [1, 1] });
});
