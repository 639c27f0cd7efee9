/** Small-cell suppression: primary masking, complementary masking along every additive line. */
import { suppressCells } from '../../src/reporting/suppression';
import { linesOf, tabulate, valuesOf } from '../../src/reporting/strata';
import type { Cell } from '../../src/reporting/query';

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
