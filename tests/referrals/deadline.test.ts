/** Deadlines of urgent referrals and the 72-hour PEP deadline from the exposure time (SWIT 5.7). */
import type { Task } from '@medplum/fhirtypes';
import { applyDeadline } from '../../src/referrals/deadline';
import { EXPOSURE_EXTENSION } from '../../src/referrals/task';

const base: Task = { resourceType: 'Task', status: 'requested', intent: 'order' };
const exposed = (at: string, extra: Partial<Task> = {}): Task => ({ ...base, extension: [{ url: EXPOSURE_EXTENSION, valueDateTime: at }], ...extra });

test('routine referral without a deadline passes unchanged', () => {
  expect(applyDeadline(base)).toEqual({ ok: true, task: base });
});

test.each(['stat', 'asap'] as const)('priority %s without a deadline is refused at Task.restriction.period.end', (priority) => {
  const r = applyDeadline({ ...base, priority });
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.issues[0]!.expression).toEqual(['Task.restriction.period.end']);
});

test('priority stat with a deadline is kept as given', () => {
  const task: Task = { ...base, priority: 'stat', restriction: { period: { end: '2025-03-02T10:00:00Z' } } };
  expect(applyDeadline(task)).toEqual({ ok: true, task });
});

test('exposure time gives deadline exposure + 72 h (in UTC) and priority stat', () => {
  const r = applyDeadline(exposed('2025-03-01T22:30:00+02:00'));
  expect(r.ok && r.task.restriction?.period?.end).toBe('2025-03-04T20:30:00Z');
  expect(r.ok && r.task.priority).toBe('stat');
});

test('exposure time keeps priority asap', () => {
  const r = applyDeadline(exposed('2025-03-01T22:30:00Z', { priority: 'asap' }));
  expect(r.ok && r.task.priority).toBe('asap');
});

test('an earlier deadline than the PEP window is kept; a later one is cut to the window', () => {
  const earlier = applyDeadline(exposed('2025-03-01T00:00:00Z', { restriction: { period: { end: '2025-03-02T00:00:00Z' } } }));
  expect(earlier.ok && earlier.task.restriction?.period?.end).toBe('2025-03-02T00:00:00Z');
  const later = applyDeadline(exposed('2025-03-01T00:00:00Z', { restriction: { period: { start: '2025-03-01T01:00:00Z', end: '2025-03-10T00:00:00Z' } } }));
  expect(later.ok && later.task.restriction?.period).toEqual({ start: '2025-03-01T01:00:00Z', end: '2025-03-04T00:00:00Z' });
});

test('an exposure time without time zone is refused, naming the extension', () => {
  const r = applyDeadline(exposed('2025-03-01'));
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.issues[0]!.expression![0]).toContain(EXPOSURE_EXTENSION);
});
