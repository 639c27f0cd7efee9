/**
 * The care-gap schedules as the DAK states them, case by case, on plain client records (no
 * server): HIV.S.2 viral load rows with their copies/mL boundaries, per-rule overdue dates
 * (HIV.S.2 "Overdue" column: due + 28 days, or the due date itself above 1000 copies/mL; rapid
 * ART within 7 days), and urgent referrals shown from when they are made, overdue once their
 * window has closed.
 */
import { type ClientRecord, emptyClientRecord } from '../../src/services/care-gaps-record';
import { type Gap, careGaps } from '../../src/services/care-gaps-rules';

const record = (over: Partial<ClientRecord> = {}): ClientRecord => ({ ...emptyClientRecord(), keyPopulation: true, ...over });

/** Diagnosed 2023-12-20 (HIV.B7.DT.08), ART from 2024-01-10. */
const onArt = (viralLoads: ClientRecord['viralLoads']): ClientRecord => record({
  conclusions: [{ id: 'c1', date: '2023-12-20T10:00:00Z', result: 'positive', rule: 'HIV.B7.DT.08' }],
  medications: [{ kind: 'art', authoredOn: '2024-01-10', active: true, supplyDays: 90 }],
  viralLoads,
});

const gap = (gaps: Gap[], code: string): Gap | undefined => gaps.find((g) => g.code === code);
const vl = (gaps: Gap[]): Gap | undefined => gaps.find((g) => g.code === 'viral-load' || g.code === 'viral-load-high');

describe('HIV.S.2 viral load monitoring, row by row (ART start 2024-01-10)', () => {
  // [case, viral loads since ART start, asOf, expected code, due date, DAK row]
  test.each<[string, ClientRecord['viralLoads'], string, string, string, string]>([
    ['no viral load yet: ART start + 6 months', [], '2024-07-10', 'viral-load', '2024-07-10', 'HIV.S.2.01'],
    ['first result 20 (< 50, suppressed) before month 12: ART start + 12 months', [{ date: '2024-07-15', value: 20 }], '2025-01-10', 'viral-load', '2025-01-10', 'HIV.S.2.02'],
    ['49 copies/mL is still below 50: routine, ART start + 12 months', [{ date: '2024-07-15', value: 49 }], '2025-01-10', 'viral-load', '2025-01-10', 'HIV.S.2.02'],
    ['second suppressed result: every 12 months from the sample', [{ date: '2024-07-15', value: 20 }, { date: '2025-01-12', value: 30 }], '2026-01-12', 'viral-load', '2026-01-12', 'HIV.S.2.03'],
    ['50 copies/mL is elevated (between 50 and 1000): sample + 3 months', [{ date: '2024-07-15', value: 50 }], '2024-10-15', 'viral-load', '2024-10-15', 'HIV.S.2.04'],
    ['1000 copies/mL is still "between 50 and 1000": sample + 3 months', [{ date: '2024-07-15', value: 1000 }], '2024-10-15', 'viral-load', '2024-10-15', 'HIV.S.2.04'],
    ['second consecutive elevated result: sample + 3 months', [{ date: '2024-07-15', value: 400 }, { date: '2024-10-20', value: 200 }], '2025-01-20', 'viral-load', '2025-01-20', 'HIV.S.2.05'],
    ['elevated after a suppressed one is a first elevated result', [{ date: '2024-07-15', value: 20 }, { date: '2025-01-12', value: 200 }], '2025-04-12', 'viral-load', '2025-04-12', 'HIV.S.2.04'],
    ['1001 copies/mL is above 1000: due on the sample date', [{ date: '2024-07-15', value: 1001 }], '2024-07-15', 'viral-load-high', '2024-07-15', 'HIV.S.2.06'],
    ['above 1000 after an elevated one: still due at once', [{ date: '2024-07-15', value: 400 }, { date: '2024-10-20', value: 25_000 }], '2024-10-20', 'viral-load-high', '2024-10-20', 'HIV.S.2.06'],
  ])('%s', (_case, loads, asOf, code, dueDate, rule) => {
    expect(vl(careGaps(onArt(loads), asOf))).toMatchObject({ code, dueDate, rule });
  });

  test('not shown before its due date', () => {
    expect(vl(careGaps(onArt([{ date: '2024-07-15', value: 50 }]), '2024-10-14'))).toBeUndefined();
    expect(vl(careGaps(onArt([]), '2024-07-09'))).toBeUndefined();
  });

  test('a viral load from before ART start does not count', () => {
    expect(vl(careGaps(onArt([{ date: '2024-01-02', value: 80_000 }]), '2024-07-10'))).toMatchObject({ rule: 'HIV.S.2.01' });
  });
});

describe('overdue per rule (the DAK "Overdue" column)', () => {
  test('HIV.S.2.06 (> 1000 copies/mL): overdue on its due date', () => {
    expect(vl(careGaps(onArt([{ date: '2024-07-15', value: 1001 }]), '2024-07-15'))).toMatchObject({ status: 'overdue', overdueDate: '2024-07-15' });
  });

  test('HIV.S.2.04 (50–1000): due until due + 27 days, overdue from due + 28 days', () => {
    const r = onArt([{ date: '2024-07-15', value: 1000 }]);
    expect(vl(careGaps(r, '2024-11-11'))).toMatchObject({ dueDate: '2024-10-15', overdueDate: '2024-11-12', status: 'due' });
    expect(vl(careGaps(r, '2024-11-12'))).toMatchObject({ status: 'overdue' });
  });

  test('HIV.S.2.01: overdue at due date + 28 days', () => {
    expect(vl(careGaps(onArt([]), '2024-08-06'))).toMatchObject({ status: 'due', overdueDate: '2024-08-07' });
    expect(vl(careGaps(onArt([]), '2024-08-07'))).toMatchObject({ status: 'overdue' });
  });

  test('ART start (SWIT 5.3, rapid ART within 7 days): overdue from diagnosis + 7 days', () => {
    const r = record({ conclusions: [{ id: 'c1', date: '2025-03-01T10:00:00Z', result: 'positive', rule: 'HIV.B7.DT.08' }] });
    expect(gap(careGaps(r, '2025-03-07'), 'art-start')).toMatchObject({ dueDate: '2025-03-01', overdueDate: '2025-03-08', status: 'due' });
    expect(gap(careGaps(r, '2025-03-08'), 'art-start')).toMatchObject({ status: 'overdue' });
  });
});

describe('urgent referrals: shown from when they are made, overdue once the window has closed', () => {
  /** A PEP referral made 2025-06-01 for an exposure on 2025-06-01T06:00Z: the 72-hour window ends 2025-06-04T06:00Z. */
  const pep = (deadline?: string) => record({
    urgentReferrals: [{ taskId: 't1', status: 'requested', description: 'post-exposure care', authoredOn: '2025-06-01T09:00:00Z', ...(deadline ? { deadline } : {}) }],
  });
  const referral = (r: ClientRecord, asOf: string) => gap(careGaps(r, asOf), 'urgent-referral');

  test('shown on the day it is made, due while the PEP window is open', () => {
    const r = pep('2025-06-04T06:00:00Z');
    expect(referral(r, '2025-06-01')).toMatchObject({ dueDate: '2025-06-01', status: 'due', focus: 'Task/t1', rule: 'SWIT5.3' });
    expect(referral(r, '2025-06-04')).toMatchObject({ status: 'due' });
  });

  test('overdue on the first day after the window has closed, not 28 days later', () => {
    const r = pep('2025-06-04T06:00:00Z');
    expect(referral(r, '2025-06-05')).toMatchObject({ status: 'overdue', overdueDate: '2025-06-05' });
    expect(referral(r, '2025-06-20')).toMatchObject({ status: 'overdue' });
  });

  test('a deadline at midnight closes the window as that day begins', () => {
    expect(referral(pep('2025-06-04T00:00:00Z'), '2025-06-04')).toMatchObject({ status: 'overdue', overdueDate: '2025-06-04' });
  });

  test('a deadline given as a date runs to the end of that day', () => {
    expect(referral(pep('2025-06-04'), '2025-06-04')).toMatchObject({ status: 'due' });
    expect(referral(pep('2025-06-04'), '2025-06-05')).toMatchObject({ status: 'overdue' });
  });

  test('without a deadline (priority urgent): overdue from the day after it was made', () => {
    expect(referral(pep(), '2025-06-01')).toMatchObject({ status: 'due', overdueDate: '2025-06-02' });
    expect(referral(pep(), '2025-06-02')).toMatchObject({ status: 'overdue' });
  });

  test('not shown before it is made', () => {
    expect(referral(pep('2025-06-04T06:00:00Z'), '2025-05-31')).toBeUndefined();
  });
});
