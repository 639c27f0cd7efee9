/**
 * Scoring of the mental health and alcohol screens: total score and severity band. Pure.
 * - PHQ-9 (Kroenke, Spitzer, Williams, J Gen Intern Med 2001;16:606-613): 9 items 0-3, total 0-27;
 *   0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe.
 * - GAD-7 (Spitzer, Kroenke, Williams, Löwe, Arch Intern Med 2006;166:1092-1097): 7 items 0-3,
 *   total 0-21; 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe.
 * - AUDIT-C (Bush et al., Arch Intern Med 1998;158:1789-1795): 3 items 0-4, total 0-12; screen
 *   positive at ≥ 3 for women and ≥ 4 for men (Bradley et al., Alcohol Clin Exp Res 2007;31:1208-1217).
 *   For other or unknown gender the lower threshold applies: a missed positive costs more than a
 *   follow-up question.
 */

export type Instrument = 'phq-9' | 'gad-7' | 'audit-c';
export type Severity = 'minimal' | 'mild' | 'moderate' | 'moderately-severe' | 'severe' | 'screen-negative' | 'screen-positive';
export type Gender = 'female' | 'male' | 'other' | 'unknown';

/** Items and the points each may score, per instrument. */
export const INSTRUMENTS: Record<Instrument, { items: number; maxPerItem: number }> = {
  'phq-9': { items: 9, maxPerItem: 3 },
  'gad-7': { items: 7, maxPerItem: 3 },
  'audit-c': { items: 3, maxPerItem: 4 },
};

/** Lowest total of each band, highest band first. */
const BANDS: Record<'phq-9' | 'gad-7', [number, Severity][]> = {
  'phq-9': [[20, 'severe'], [15, 'moderately-severe'], [10, 'moderate'], [5, 'mild'], [0, 'minimal']],
  'gad-7': [[15, 'severe'], [10, 'moderate'], [5, 'mild'], [0, 'minimal']],
};

/** Score of a screen. */
export interface ScreenScore {
  total: number;
  severity: Severity;
}

/** The AUDIT-C threshold for a gender (≥ 4 men, ≥ 3 everyone else). */
export function auditCThreshold(gender: Gender | undefined): number {
  return gender === 'male' ? 4 : 3;
}

/**
 * Total and severity from the item scores (one per item, in any order). Throws a RangeError for a
 * wrong number of items or an item out of range: callers check their input first.
 */
export function scoreScreen(instrument: Instrument, itemScores: number[], gender?: Gender): ScreenScore {
  const spec = INSTRUMENTS[instrument];
  if (itemScores.length !== spec.items) throw new RangeError(`${instrument} has ${spec.items} items, got ${itemScores.length}`);
  for (const s of itemScores) {
    if (!Number.isInteger(s) || s < 0 || s > spec.maxPerItem) throw new RangeError(`${instrument} items score 0-${spec.maxPerItem}, got ${s}`);
  }
  const total = itemScores.reduce((a, b) => a + b, 0);
  if (instrument === 'audit-c') return { total, severity: total >= auditCThreshold(gender) ? 'screen-positive' : 'screen-negative' };
  const severity = BANDS[instrument].find(([low]) => total >= low)![1];
  return { total, severity };
}
