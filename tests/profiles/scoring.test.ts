/** Unit tests of the screening scores: every band boundary, and the AUDIT-C thresholds by gender. */
import { auditCThreshold, scoreScreen } from '../../src/profiles/scoring';
import { suppressionOf } from '../../src/profiles/viral-load';

/** Item scores adding up to `total`, filling items from the first. */
function items(count: number, max: number, total: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.max(0, Math.min(max, total - i * max)));
}

describe('PHQ-9 bands (Kroenke 2001)', () => {
  test.each([
    [0, 'minimal'], [4, 'minimal'], [5, 'mild'], [9, 'mild'], [10, 'moderate'], [14, 'moderate'],
    [15, 'moderately-severe'], [19, 'moderately-severe'], [20, 'severe'], [27, 'severe'],
  ])('total %i is %s', (total, severity) => {
    expect(scoreScreen('phq-9', items(9, 3, total))).toEqual({ total, severity });
  });
});

describe('GAD-7 bands (Spitzer 2006)', () => {
  test.each([
    [0, 'minimal'], [4, 'minimal'], [5, 'mild'], [9, 'mild'], [10, 'moderate'], [14, 'moderate'], [15, 'severe'], [21, 'severe'],
  ])('total %i is %s', (total, severity) => {
    expect(scoreScreen('gad-7', items(7, 3, total))).toEqual({ total, severity });
  });
});

describe('AUDIT-C (Bush 1998; thresholds Bradley 2007)', () => {
  test.each([
    ['female', 2, 'screen-negative'], ['female', 3, 'screen-positive'],
    ['male', 3, 'screen-negative'], ['male', 4, 'screen-positive'],
    ['other', 3, 'screen-positive'], [undefined, 2, 'screen-negative'], [undefined, 3, 'screen-positive'], ['male', 12, 'screen-positive'],
  ] as const)('%s with total %i is %s', (gender, total, severity) => {
    expect(scoreScreen('audit-c', items(3, 4, total), gender)).toEqual({ total, severity });
  });

  test('thresholds: 4 for men, 3 otherwise', () => {
    expect([auditCThreshold('male'), auditCThreshold('female'), auditCThreshold('unknown'), auditCThreshold(undefined)]).toEqual([4, 3, 3, 3]);
  });
});

test('a wrong number of items or an item out of range is a programming error', () => {
  expect(() => scoreScreen('phq-9', [0, 0, 0])).toThrow(RangeError);
  expect(() => scoreScreen('gad-7', [4, 0, 0, 0, 0, 0, 0])).toThrow(RangeError);
  expect(() => scoreScreen('audit-c', [1.5, 0, 0])).toThrow(RangeError);
});

test('viral load: suppressed below 1000 copies/mL', () => {
  expect([suppressionOf(0), suppressionOf(999), suppressionOf(1000), suppressionOf(250000)]).toEqual(['suppressed', 'suppressed', 'unsuppressed', 'unsuppressed']);
});
