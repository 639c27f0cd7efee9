import { parseDateRange, rangeCondition } from '../../src/search/ranges';

test.each([
  ['2024', '2024-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
  ['2024-02', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
  ['2024-02-29', '2024-02-29T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
  ['2024-12', '2024-12-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
  ['2024-03-10T10:00', '2024-03-10T10:00:00.000Z', '2024-03-10T10:01:00.000Z'],
  ['2024-03-10T10:00:05Z', '2024-03-10T10:00:05.000Z', '2024-03-10T10:00:06.000Z'],
  ['2024-03-10T10:00:05+02:00', '2024-03-10T08:00:05.000Z', '2024-03-10T08:00:06.000Z'],
  ['2024-03-10T10:00:05.1-01:30', '2024-03-10T11:30:05.100Z', '2024-03-10T11:30:05.200Z'],
  ['2024-03-10T10:00:05.123Z', '2024-03-10T10:00:05.123Z', '2024-03-10T10:00:05.124Z'],
])('%s stands for [%s, %s)', (value, low, high) => {
  expect(parseDateRange(value)).toEqual({ low, high });
});

test.each(['2023-02-29', '2024-13', '2024-00-10', '24', 'yesterday', '2024-01-01T25:00', '2024-01-01T10:61'])('%s is not a date', (v) => {
  expect(parseDateRange(v)).toBeUndefined();
});

test('prefix conditions', () => {
  const r = { low: 'L', high: 'H' };
  expect(rangeCondition('eq', r)).toEqual([{ op: '>=', value: 'L' }, { op: '<', value: 'H' }]);
  expect(rangeCondition('gt', r)).toEqual([{ op: '>=', value: 'H' }]);
  expect(rangeCondition('le', r)).toEqual([{ op: '<', value: 'H' }]);
  expect(rangeCondition('ne', r).every((c) => c.or)).toBe(true);
});
