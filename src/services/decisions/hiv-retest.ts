/**
 * HIV retesting recommendations for people whose last test was negative (DAK HIV.B9.DT, hit
 * policy Rule order: every matching row applies; schedule HIV.S.4). Rows whose DAK action states
 * an interval give a date; the others (TB, pregnancy) give their action only, because their
 * timing hangs on events this function is not told about (ANC contacts, delivery).
 */
import { addDays, addMonths, formatDate, parseDate, utcDay } from './dates';
import { type Decision, impossible, malformed, ok } from './result';

export interface RetestInput {
  lastNegativeTestDate: string;
  keyPopulation: boolean;
  onPrep: boolean;
  /** Partner reported HIV-positive and not virally suppressed (HIV.B9.DT.01, .11). */
  partnerNotVirallySuppressed?: boolean;
  /** true = high, false = low HIV burden setting, absent = not stated (HIV.B9.DT.02, .08–.12). */
  highBurdenSetting?: boolean;
  elevatedRisk?: boolean;
  pregnant?: boolean;
  tbDiagnosed?: boolean;
  presumptiveTb?: boolean;
}

export interface RetestRecommendation {
  rule: string;
  action: string;
  dueDate?: string;
}

export interface RetestOutcome {
  /** Earliest dated recommendation, the one a reminder should use. */
  nextTestDate?: string;
  /** The row that set nextTestDate; 'HIV.B9.DT' when no row applies. */
  rule: string;
  recommendations: RetestRecommendation[];
}

interface RetestRow {
  id: string;
  when(i: RetestInput): boolean;
  inMonths?: number;
  action: string;
}

const lowBurden = (i: RetestInput): boolean => i.highBurdenSetting === false;
const THIRD_TRIMESTER_AND_POSTPARTUM =
  'Retest at the first ANC contact, at a third-trimester visit, and once post-partum (delivery + 14 weeks, 6 months or 9 months)';

/** DAK HIV.B9.DT rows; every row also requires HIV status negative or unknown, which a last negative test implies. */
export const HIV_B9_ROWS: readonly RetestRow[] = [
  { id: 'HIV.B9.DT.01', when: (i) => i.partnerNotVirallySuppressed === true, inMonths: 12, action: 'Schedule an annual follow-up HIV test (partner with HIV not virally suppressed)' },
  { id: 'HIV.B9.DT.02', when: (i) => i.highBurdenSetting === true, inMonths: 12, action: 'Schedule an annual follow-up HIV test (high HIV burden setting)' },
  { id: 'HIV.B9.DT.03', when: (i) => i.keyPopulation, inMonths: 12, action: 'Schedule an annual follow-up HIV test (key population)' },
  { id: 'HIV.B9.DT.04', when: (i) => i.elevatedRisk === true, inMonths: 12, action: 'Schedule an annual follow-up HIV test (elevated risk of HIV acquisition)' },
  { id: 'HIV.B9.DT.05', when: (i) => i.tbDiagnosed === true, action: 'Recommend a follow-up HIV test (diagnosed TB)' },
  { id: 'HIV.B9.DT.06', when: (i) => i.presumptiveTb === true, action: 'Recommend a follow-up HIV test (presumptive TB)' },
  { id: 'HIV.B9.DT.07', when: (i) => i.onPrep, inMonths: 3, action: 'Schedule quarterly HIV retesting (PrEP user)' },
  { id: 'HIV.B9.DT.08', when: (i) => i.highBurdenSetting === true && i.pregnant === true, action: 'Schedule HIV, syphilis and hepatitis B tests as early as possible in this pregnancy' },
  { id: 'HIV.B9.DT.09', when: (i) => i.highBurdenSetting === true && i.pregnant === true, action: 'Schedule a follow-up HIV test at a third-trimester visit' },
  { id: 'HIV.B9.DT.10', when: (i) => lowBurden(i) && i.keyPopulation && i.pregnant === true, action: THIRD_TRIMESTER_AND_POSTPARTUM },
  { id: 'HIV.B9.DT.11', when: (i) => lowBurden(i) && i.partnerNotVirallySuppressed === true && i.pregnant === true, action: THIRD_TRIMESTER_AND_POSTPARTUM },
  { id: 'HIV.B9.DT.12', when: (i) => lowBurden(i) && i.elevatedRisk === true && i.pregnant === true, action: THIRD_TRIMESTER_AND_POSTPARTUM },
];

/** When the next HIV test is due after a negative one (DAK HIV.B9.DT, https://smart.who.int/hiv/). */
export function hivRetestDue(input: RetestInput, now: Date = new Date()): Decision<RetestOutcome> {
  const last = parseDate(input.lastNegativeTestDate);
  if (last === undefined) return malformed('lastNegativeTestDate', `lastNegativeTestDate "${input.lastNegativeTestDate}" is not a calendar date`);
  // One day of slack: a clinic east of UTC is already on tomorrow's date.
  if (last > addDays(utcDay(now.getTime()), 1)) return impossible('lastNegativeTestDate', 'lastNegativeTestDate is in the future: a test not yet done cannot be negative');

  // The DAK bases these intervals on "Visit date"; the visit that matters is the one of the last negative test.
  const recommendations = HIV_B9_ROWS.filter((r) => r.when(input)).map((r) => ({
    rule: r.id,
    action: r.action,
    ...(r.inMonths !== undefined ? { dueDate: formatDate(addMonths(last, r.inMonths)) } : {}),
  }));
  // Rule order gives all hits; a reminder needs one date, and the most frequent schedule wins
  // (a key-population PrEP user retests every 3 months, not yearly). Ties keep rule order.
  const dated = recommendations.filter((r) => r.dueDate !== undefined).sort((a, b) => (a.dueDate! < b.dueDate! ? -1 : a.dueDate! > b.dueDate! ? 1 : 0));
  const first = dated[0];
  return ok(first ? { nextTestDate: first.dueDate, rule: first.rule, recommendations } : { rule: 'HIV.B9.DT', recommendations });
}
