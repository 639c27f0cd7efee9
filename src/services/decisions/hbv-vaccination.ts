/**
 * Hepatitis B vaccination schedule (SWIT 5.6: three doses for sex workers). Standard: 0, 1 and
 * 6 months. Accelerated: 0, 7 and 21 days, for people at ongoing risk who may not come back for
 * a six-month dose; vaccines licensed for that schedule add a booster at 12 months, without which
 * protection is not lasting, so the series counts as complete only after it.
 * Rule ids are this module's own: HBV.STD.nn and HBV.ACC.nn, nn = the dose now due, and one
 * past the last dose when the series is complete (HBV.STD.04, HBV.ACC.05).
 */
import { addDays, addMonths, formatDate, parseDate, utcDay } from './dates';
import { type Decision, impossible, malformed, ok } from './result';

export type HbvSchedule = 'standard' | 'accelerated';

export interface HbvInput {
  /** Dates of the doses already given, oldest first. */
  doseDates: string[];
  schedule: HbvSchedule;
}

export type HbvOutcome = { nextDoseDate: string; rule: string } | { complete: true; rule: string };

interface Offset {
  days?: number;
  months?: number;
}

/** Each dose's offset from the first dose. */
export const HBV_SCHEDULES: Record<HbvSchedule, { prefix: string; doses: Offset[] }> = {
  standard: { prefix: 'HBV.STD', doses: [{ days: 0 }, { months: 1 }, { months: 6 }] },
  accelerated: { prefix: 'HBV.ACC', doses: [{ days: 0 }, { days: 7 }, { days: 21 }, { months: 12 }] },
};

function shift(date: number, o: Offset): number {
  return o.months !== undefined ? addMonths(date, o.months) : addDays(date, o.days ?? 0);
}

/** Offset b minus offset a, as an offset of the same kind where the schedule keeps to one. */
function gap(a: Offset, b: Offset): Offset {
  if (a.months !== undefined && b.months !== undefined) return { months: b.months - a.months };
  if (a.days !== undefined && b.days !== undefined) return { days: b.days - a.days };
  return { months: (b.months ?? 0) - (a.months ?? 0), days: (b.days ?? 0) - (a.days ?? 0) };
}

function applyGap(date: number, g: Offset): number {
  return addDays(addMonths(date, g.months ?? 0), g.days ?? 0);
}

const rid = (prefix: string, n: number): string => `${prefix}.${String(n).padStart(2, '0')}`;

/** Next hepatitis B vaccine dose, or that the series is complete (WHO position paper, https://www.who.int/teams/immunization-vaccines-and-biologicals/policies/position-papers/hepatitis-b). */
export function hbvVaccinationSchedule(input: HbvInput, now: Date = new Date()): Decision<HbvOutcome> {
  const plan = HBV_SCHEDULES[input.schedule];
  const doses: number[] = [];
  for (const [i, text] of input.doseDates.entries()) {
    const d = parseDate(text);
    if (d === undefined) return malformed('doseDate', `doseDate "${text}" is not a calendar date`);
    if (i > 0 && d <= doses[i - 1]!) return impossible('doseDate', `doseDate values must be in chronological order, one dose a day: ${text} follows ${input.doseDates[i - 1]}`);
    // One day of slack: a clinic east of UTC is already on tomorrow's date.
    if (d > addDays(utcDay(now.getTime()), 1)) return impossible('doseDate', `doseDate ${text} is in the future: only doses already given are recorded`);
    doses.push(d);
  }
  const n = doses.length;
  if (n >= plan.doses.length) return ok({ complete: true, rule: rid(plan.prefix, plan.doses.length + 1) });
  if (n === 0) return ok({ nextDoseDate: formatDate(utcDay(now.getTime())), rule: rid(plan.prefix, 1) });
  // Anchored to the first dose as the schedule is written; a late dose pushes the next one so
  // consecutive doses are never closer together than the schedule spaces them.
  const anchored = shift(doses[0]!, plan.doses[n]!);
  const spaced = applyGap(doses[n - 1]!, gap(plan.doses[n - 1]!, plan.doses[n]!));
  return ok({ nextDoseDate: formatDate(Math.max(anchored, spaced)), rule: rid(plan.prefix, n + 1) });
}
