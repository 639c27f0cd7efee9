/** Small-cell suppression: primary masking, complementary masking along every additive line. */
import { smallComplements, suppressCells } from '../../src/reporting/suppression';
import { evaluateIndicator } from '../../src/reporting/evaluate';
import { INDICATORS } from '../../src/reporting/indicators';
import { linesOf, tabulate, valuesOf } from '../../src/reporting/strata';
import type { Cell, IndicatorQueries } from '../../src/reporting/query';

const counts = (o: Record<string, number>) => new Map(Object.entries(o));

test('counts from 1 to the threshold are masked; zero and larger counts are not', () => {
  const m = suppressCells(counts({ total: 30, a: 0, b: 4, c: 5, d: 21 }), [], 4);
  expect([...m]).toEqual(['b']);
});

test('a lone masked cell gets a complement, or it could be recovered as total minus the rest', () => {
  // Without a complement, a = 20 − 9 − 8 = 3.
  const line = { total: 'total', members: ['a', 'b', 'c'] };
  const m = suppressCells(counts({ total: 20, a: 3, b: 9, c: 8 }), [line], 4);
  expect(m).toEqual(new Set(['a', 'c']));
});

test('the complement prefers the smallest non-zero shown cell, ties by key', () => {
  const line = { total: 'total', members: ['a', 'z', 'y', 'x'] };
  const m = suppressCells(counts({ total: 18, a: 2, z: 0, y: 8, x: 8 }), [line], 4);
  expect(m).toEqual(new Set(['a', 'x']));
});

test('a masked total with all members shown gets a member masked too', () => {
  const line = { total: 't', members: ['a', 'b'] };
  const m = suppressCells(counts({ t: 3, a: 0, b: 3 }), [line], 4);
  // b is masked primarily (3); t too; the line then has two masked cells.
  expect(m).toEqual(new Set(['t', 'b']));
});

test('masking cascades through nested lines (a coarse age band and its MER bands)', () => {
  const cells: Cell[] = [
    { ageBandMer: '25-29', gender: 'female', keyPopulation: 'sex-worker', organization: 'o1', setting: 'community', providerType: 'kp-led', population: 2, numerator: 0 },
    { ageBandMer: '30-34', gender: 'female', keyPopulation: 'sex-worker', organization: 'o1', setting: 'community', providerType: 'kp-led', population: 10, numerator: 0 },
    { ageBandMer: '20-24', gender: 'male', keyPopulation: 'msm', organization: 'o2', setting: 'facility', providerType: 'public', population: 30, numerator: 0 },
  ];
  const t = tabulate(cells);
  const m = suppressCells(valuesOf(t, (c) => c.population), linesOf(t), 4);
  // 25-29 (2) is masked; 30-34 (10) must be too, or 25-49 (12) − 30-34 gives it away.
  expect(m.has('age-band-mer|25-29')).toBe(true);
  expect(m.has('age-band-mer|30-34')).toBe(true);
  // No line is left with exactly one masked cell.
  for (const line of linesOf(t)) expect([line.total, ...line.members].filter((k) => m.has(k)).length).not.toBe(1);
});

test('equal tables are masked alike (initial population and denominator cannot undo each other)', () => {
  const line = { total: 'total', members: ['a', 'b', 'c', 'd'] };
  const c = counts({ total: 24, a: 1, b: 7, c: 7, d: 9 });
  expect(suppressCells(c, [line], 4)).toEqual(suppressCells(new Map([...c].reverse()), [line], 4));
});

describe('the population minus the numerator is a count too', () => {
  test('smallComplements names the cells where both figures are shown and their difference is 1 to the threshold', () => {
    const population = counts({ total: 40, a: 6, b: 10, c: 24 });
    const numerator = counts({ total: 33, a: 5, b: 5, c: 23 });
    // a: 6 − 5 = 1; c: 24 − 23 = 1; total: 7 and b: 5 are above the threshold.
    expect(smallComplements(population, numerator, new Set(), 4).sort()).toEqual(['a', 'c']);
    // Where the population is masked anyway, the difference cannot be taken.
    expect(smallComplements(population, numerator, new Set(['a']), 4)).toEqual(['c']);
  });

  test('an indicator evaluated for release masks "6 tested, 5 linked" and keeps the line consistent', async () => {
    const base = { ageBandMer: '25-29', gender: 'female', keyPopulation: 'sex-worker', setting: 'community', providerType: 'kp-led' };
    const cells: Cell[] = [
      { ...base, organization: 'o1', population: 6, numerator: 5 },
      { ...base, organization: 'o2', population: 30, numerator: 20 },
      { ...base, organization: 'o3', population: 40, numerator: 25 },
    ];
    const queries = { countCells: async () => cells, countAllCells: async () => [cells] } as unknown as IndicatorQueries;
    const indicator = INDICATORS.find((i) => i.scoring === 'proportion')!;
    const r = await evaluateIndicator(queries, indicator, { periodStart: '2025-01-01', periodEnd: '2025-03-31' }, { suppress: true, threshold: 4 });
    const byOrg = new Map(r.rows.filter((row) => row.stratifier === 'organization').map((row) => [row.value, row]));
    expect(byOrg.get('o1')!.numerator).toEqual({ masked: true });
    expect(byOrg.get('o1')!.population).toEqual({ count: 6 });
    // Its complement in the organisation line is masked too, or o1 = total − o2 − o3.
    expect(byOrg.get('o2')!.numerator).toEqual({ masked: true });
    expect(byOrg.get('o3')!.numerator).toEqual({ count: 25 });
    // Without release masking nothing is hidden.
    const open = await evaluateIndicator(queries, indicator, { periodStart: '2025-01-01', periodEnd: '2025-03-31' }, { suppress: false, threshold: 4 });
    expect(open.rows.find((row) => row.value === 'o1')!.numerator).toEqual({ count: 5 });
    // A cohort count's numerator is no part of a population: its difference counts no one.
    const cohort = INDICATORS.find((i) => i.scoring === 'cohort')!;
    const counted = await evaluateIndicator(queries, cohort, { periodStart: '2025-01-01', periodEnd: '2025-03-31' }, { suppress: true, threshold: 4 });
    expect(counted.rows.find((row) => row.value === 'o1')!.numerator).toEqual({ count: 5 });
  });
});
