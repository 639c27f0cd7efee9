/** Canonical units for quantity search (src/search/ucum.ts). */
import { toCanonical } from '../../src/search/ucum';

test.each([
  ['{copies}/mL', 200, { value: 200_000, code: '/L' }],
  ['{copies}/uL', 0.5, { value: 500_000, code: '/L' }],
  ['{cells}/uL', 350, { value: 350_000_000, code: '/L' }],
  ['/uL', 350, { value: 350_000_000, code: '/L' }],
  ['mg', 1, { value: 0.001, code: 'g' }],
])('%s %d → canonical', (code, value, expected) => {
  expect(toCanonical(value, code)).toEqual(expected);
});

test('an annotation equals the plain unit; units outside the table stay as written', () => {
  expect(toCanonical(3, '{copies}/mL')).toEqual(toCanonical(3, '/mL'));
  expect(toCanonical(1, '{score}')).toBeUndefined();
  expect(toCanonical(1, 'kat')).toBeUndefined();
});
