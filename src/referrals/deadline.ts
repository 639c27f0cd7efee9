/**
 * Deadlines of urgent referrals. A referral with priority `stat` or `asap` must say when it is
 * due (`Task.restriction.period.end`, searchable as `deadline`); for post-rape care the deadline
 * is the end of the 72-hour PEP window counted from the exposure (SWIT 5.7, as in
 * src/services/decisions/post-exposure.ts). Pure: the rule applies it to each write.
 */
import type { OperationOutcomeIssue, Task } from '@medplum/fhirtypes';
import { issue } from '../fhir/outcome';
import { HOUR_MS, parseDateTime } from '../services/decisions/dates';
import { PEP_WINDOW_HOURS } from '../services/decisions/post-exposure';
import { EXPOSURE_EXTENSION, deadlineOf, exposureOf } from './task';

/** Priorities that need a deadline (http://hl7.org/fhir/R4/valueset-request-priority.html). */
export const URGENT_PRIORITIES: ReadonlySet<string> = new Set(['stat', 'asap']);

export type DeadlineResult = { ok: true; task: Task } | { ok: false; issues: OperationOutcomeIssue[] };

const EXPOSURE_PATH = `Task.extension('${EXPOSURE_EXTENSION}').value`;
const DEADLINE_PATH = 'Task.restriction.period.end';

/** The instant as a UTC dateTime with seconds (http://hl7.org/fhir/R4/datatypes.html#dateTime). */
function utc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Completes and checks the deadline of a referral:
 * - with an exposure time, the deadline is exposure + 72 h, or the given one when it is earlier
 *   (a later one would let the PEP window close unnoticed), and the priority becomes `stat`
 *   unless it already is `asap` (SWIT 5.7: PEP as soon as possible, within 72 hours);
 * - a `stat`/`asap` referral without a deadline is refused: an urgent referral nobody can see
 *   running late is not urgent in any worklist.
 */
export function applyDeadline(task: Task): DeadlineResult {
  const exposure = exposureOf(task);
  const hasExposureExt = task.extension?.some((e) => e.url === EXPOSURE_EXTENSION) ?? false;
  let out = task;
  if (hasExposureExt) {
    const at = exposure === undefined ? undefined : parseDateTime(exposure);
    if (at === undefined) {
      return { ok: false, issues: [issue('invalid', 'The exposure time must be a valueDateTime with time and time zone, e.g. 2025-03-01T22:30:00+02:00', EXPOSURE_PATH)] };
    }
    const pepEnd = at + PEP_WINDOW_HOURS * HOUR_MS;
    const given = deadlineOf(task);
    const givenMs = given === undefined ? undefined : Date.parse(given);
    const end = givenMs !== undefined && !Number.isNaN(givenMs) && givenMs < pepEnd ? given! : utc(pepEnd);
    out = {
      ...task,
      priority: task.priority === 'asap' ? 'asap' : 'stat',
      restriction: { ...task.restriction, period: { ...task.restriction?.period, end } },
    };
  }
  if (URGENT_PRIORITIES.has(out.priority ?? '') && !deadlineOf(out)) {
    return { ok: false, issues: [issue('required', `A referral with priority ${out.priority} needs a deadline in Task.restriction.period.end (or an exposure time for post-exposure care)`, DEADLINE_PATH)] };
  }
  return { ok: true, task: out };
}
