/** The metrics computation on hand-made histories with known answers. */
import type { Task } from '@medplum/fhirtypes';
import { type ReferralRecord, isOverdue, median, referralMetrics } from '../../src/referrals/metrics';
import type { TaskStatus } from '../../src/referrals/state-machine';

const T0 = Date.parse('2025-03-03T08:00:00Z');
const at = (h: number) => new Date(T0 + h * 3_600_000).toISOString();

function rec(service: string | undefined, steps: [number, TaskStatus][], extra: Partial<Task> = {}): ReferralRecord {
  const status = steps[steps.length - 1]![1];
  return { task: { resourceType: 'Task', intent: 'order', status, ...extra }, service, history: steps.map(([h, s]) => ({ status: s, at: at(h) })) };
}

test('median of odd, even and empty lists', () => {
  expect(median([5, 1, 3])).toBe(3);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([])).toBeUndefined();
});

test('overdue means open, sent and past the deadline', () => {
  const late = { end: at(1) };
  expect(isOverdue({ resourceType: 'Task', intent: 'order', status: 'accepted', restriction: { period: late } }, T0 + 2 * 3_600_000)).toBe(true);
  expect(isOverdue({ resourceType: 'Task', intent: 'order', status: 'accepted', restriction: { period: late } }, T0)).toBe(false);
  expect(isOverdue({ resourceType: 'Task', intent: 'order', status: 'completed', restriction: { period: late } }, T0 + 9e9)).toBe(false);
  expect(isOverdue({ resourceType: 'Task', intent: 'order', status: 'draft', restriction: { period: late } }, T0 + 9e9)).toBe(false);
  expect(isOverdue({ resourceType: 'Task', intent: 'order', status: 'requested' }, T0 + 9e9)).toBe(false);
});

test('counts, rates, medians and per-service figures', () => {
  const m = referralMetrics([
    rec('hiv-testing', [[0, 'requested'], [2, 'accepted'], [10, 'completed']]),
    rec('hiv-testing', [[0, 'requested'], [4, 'accepted'], [5, 'in-progress'], [26, 'completed']]),
    rec('prep', [[0, 'requested'], [1, 'rejected']]),
    rec('prep', [[0, 'requested'], [6, 'received']], { restriction: { period: { end: at(24) } } }),
    rec('pep', [[0, 'draft']]),
    // Sent later from a draft: times count from sending, not from drafting.
    rec('prep', [[0, 'draft'], [10, 'requested'], [13, 'accepted'], [17, 'cancelled']]),
    rec(undefined, [[0, 'requested']]),
  ], T0 + 48 * 3_600_000);
  expect(m).toMatchObject({ total: 7, sent: 6, accepted: 3, completed: 2, overdue: 1, acceptanceRate: 0.5, completionRate: 0.3333 });
  expect(m.byStatus).toEqual({ completed: 2, rejected: 1, received: 1, draft: 1, cancelled: 1, requested: 1 });
  expect(m.medianHoursToAcceptance).toBe(3);
  expect(m.medianHoursToCompletion).toBe(18);
  expect(m.byService.get('prep')).toEqual({ total: 3, sent: 3, accepted: 1, completed: 0, overdue: 1 });
  expect(m.byService.get('unspecified')).toEqual({ total: 1, sent: 1, accepted: 0, completed: 0, overdue: 0 });
});

test('nothing sent: no rates and no medians', () => {
  const m = referralMetrics([rec('pep', [[0, 'draft']])], T0);
  expect(m.acceptanceRate).toBeUndefined();
  expect(m.medianHoursToAcceptance).toBeUndefined();
});
