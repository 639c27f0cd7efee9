/**
 * Care gaps: what is due or overdue for one client on a given day, from the facts of their record
 * that the caller may see. Pure: the operation (care-gaps.ts) gathers the facts, this decides.
 * Every gap names the rule that fired: a DAK decision-table row or schedule (HIV.B7.DT, HIV.B9.DT,
 * HIV.D4.DT, HIV.S.2, HIV.S.3, HIV.S.4), the HBV schedule ids of hbv-vaccination.ts, or a SWIT section.
 * Gaps are offers, never preconditions (SWIT 5.1): nothing here blocks any other service.
 */
import { DAY_MS, addDays, addMonths, formatDate, localDateOf, parseDate, parseDateTime } from './decisions/dates';
import { hivRetestDue } from './decisions/hiv-retest';
import { hbvVaccinationSchedule, type HbvSchedule } from './decisions/hbv-vaccination';
import { cervicalScreeningDue } from './decisions/cervical-screening';
import type { ClientRecord, Conclusion } from './care-gaps-record';

export type GapCode =
  | 'hiv-test' | 'hiv-testing-incomplete' | 'hiv-conclusion-review' | 'hiv-retest' | 'hiv-retest-before-art' | 'art-start'
  | 'viral-load' | 'viral-load-high' | 'tb-screen' | 'tb-evaluation' | 'hbv-dose' | 'cervical-screening' | 'prep-refill' | 'ost-refill' | 'urgent-referral';

export interface Gap {
  code: GapCode;
  description: string;
  /** Shown from this day. */
  dueDate: string;
  rule: string;
  /**
   * Overdue from this day on, per rule (the DAK schedules' "Overdue" column); absent when the gap
   * expires before it can be overdue (HIV.S.4.05).
   */
  overdueDate?: string;
  status: 'due' | 'overdue';
  /** The resource the gap is about, when there is one (a Task for a referral). */
  focus?: string;
}

/** DAK HIV.S.2/S.3/S.4 "Overdue" column of routine services: due date + 28 days (also this project's default). */
export const OVERDUE_DAYS = 28;
/** HIV.S.2: viral load thresholds in copies/mL (suppressed below 50; above 1000 is treatment failure). */
export const VL_SUPPRESSED = 50;
export const VL_FAILURE = 1000;
/** WHO recommends ART start within 7 days of diagnosis, same day when ready (SWIT 5.3, WHO 2017 rapid ART). */
export const RAPID_ART_DAYS = 7;
/** Project choice: a TB symptom screen at least yearly for people living with HIV (SWIT 5.4, DAK HIV.D4.DT at every visit). */
export const TB_SCREEN_MONTHS = 12;

/** Every rule states when its gap becomes overdue: no silent default. */
type Draft = Omit<Gap, 'status' | 'overdueDate'> & { overdueDate: string | undefined };

const day = (d: string): number => localDateOf(d) ?? Number.NaN;
/** The day `days` after a due date, when the gap becomes overdue. */
const graceAfter = (due: string, days: number): string => formatDate(addDays(day(due), days));
/** Due on `due`, overdue OVERDUE_DAYS later: the DAK schedules' routine "Due date + 28 days". */
const routineDue = (due: string): { dueDate: string; overdueDate: string } => ({ dueDate: due, overdueDate: graceAfter(due, OVERDUE_DAYS) });
const latest = <T extends { date: string }>(xs: readonly T[]): T | undefined => xs.reduce<T | undefined>((a, x) => (!a || x.date > a.date ? x : a), undefined);
const earliest = <T extends { date: string }>(xs: readonly T[]): T | undefined => xs.reduce<T | undefined>((a, x) => (!a || x.date < a.date ? x : a), undefined);
/** The conclusion that diagnoses HIV: the earliest positive its recorded assays support (HIV.B7.DT.08). */
const diagnosingConclusion = (record: ClientRecord): Conclusion | undefined => earliest(record.conclusions.filter((c) => c.result === 'positive' && !c.unsupported));

/** The care gaps of a client on `asOf` (FHIR date), due or overdue, earliest first. */
export function careGaps(record: ClientRecord, asOf: string): Gap[] {
  const today = day(asOf);
  const drafts: Draft[] = [];
  // Only a positive that the recorded assays support diagnoses (HIV.B7.DT.08); see hivTesting for the others.
  const positive = diagnosingConclusion(record);
  const diagnosed = positive?.date ?? (record.hivConditionDate ? record.hivConditionDate : undefined);
  if (diagnosed) drafts.push(...livingWithHiv(record, diagnosed, positive));
  else drafts.push(...hivTesting(record, today));
  drafts.push(...hepatitisB(record, asOf), ...cervical(record, asOf, diagnosed), ...refills(record), ...referrals(record));
  return drafts
    .filter((g) => day(g.dueDate) <= today)
    .map(({ overdueDate, ...g }): Gap => ({
      ...g,
      ...(overdueDate ? { overdueDate } : {}),
      // The "Overdue" column gives the day the service becomes overdue: overdue on that day.
      status: overdueDate !== undefined && today >= day(overdueDate) ? 'overdue' : 'due',
    }))
    .sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.code.localeCompare(b.code)));
}

/** HIV testing for someone not known to live with HIV: strategy completion (HIV.B7.DT), retest (HIV.B9.DT), first test. */
function hivTesting(record: ClientRecord, today: number): Draft[] {
  const last = latest(record.conclusions);
  const pending = record.pendingStrategy && (!last || record.pendingStrategy.date > last.date) ? record.pendingStrategy : undefined;
  if (pending) {
    const due = pending.date.slice(0, 10);
    return [{ code: 'hiv-testing-incomplete', description: `Complete the HIV testing strategy: next assay ${pending.nextStep}`, ...routineDue(due), rule: pending.rule }];
  }
  if (!last) return [{ code: 'hiv-test', description: 'No HIV test on record: offer HIV testing (voluntary)', ...routineDue(formatDate(today)), rule: 'SWIT5.2' }];
  const said = last.unsupported ? fromAssays(last) : last;
  if ('code' in said) return [said];
  if (said.result === 'inconclusive') {
    // HIV.B7.DT.06/.07: retest on visit date + 14 days.
    const due = said.retestDate ?? formatDate(addDays(day(last.date), 14));
    return [{ code: 'hiv-retest', description: 'Inconclusive HIV result: retest after 14 days', ...routineDue(due), rule: said.rule }];
  }
  const retest = hivRetestDue({ lastNegativeTestDate: last.date.slice(0, 10), keyPopulation: record.keyPopulation, onPrep: record.medications.some((m) => m.kind === 'prep' && m.active) }, new Date(today));
  if (!retest.ok || !retest.value.nextTestDate) return [];
  // HIV.S.4 retesting rows: overdue at due date + 28 days.
  const due = retest.value.nextTestDate;
  return [{ code: 'hiv-retest', description: 'HIV retest due after the last negative test', ...routineDue(due), rule: retest.value.rule }];
}

/**
 * A conclusion its recorded assays do not support (HIV.B7.DT): the gaps follow the assays. An
 * unfinished strategy asks for its next assay; a sequence off the strategy starts again from A1;
 * a different conclusion stands in for the recorded one, except that assays reaching HIV-positive
 * (HIV.B7.DT.08) under a non-positive label ask for the conclusion to be reviewed with the client
 * at once rather than make a diagnosis nobody recorded.
 */
function fromAssays(c: Conclusion): Draft | { result: Conclusion['result']; rule: string; retestDate?: string } {
  const says = c.unsupported!;
  const due = c.date.slice(0, 10);
  const recorded = `HIV-${c.result} recorded on ${due}`;
  if (says.kind === 'next') {
    return { code: 'hiv-testing-incomplete', description: `${recorded} before the testing strategy was complete (HIV-positive only after A1+, A2+, A3+): next assay ${says.nextStep}`, ...routineDue(due), rule: says.rule };
  }
  if (says.kind === 'off-strategy') {
    return { code: 'hiv-testing-incomplete', description: `${recorded}, but its assays do not follow the testing strategy: test again from assay A1`, ...routineDue(due), rule: says.rule };
  }
  if (says.result === 'positive') {
    return { code: 'hiv-conclusion-review', description: `${recorded}, but its assays A1+, A2+, A3+ report HIV-positive: review the conclusion with the client`, dueDate: due, overdueDate: due, rule: says.rule };
  }
  return says;
}

/** ART start, viral load (HIV.S.2) and TB screening for a client living with HIV. */
function livingWithHiv(record: ClientRecord, diagnosed: string, diagnosing: Conclusion | undefined): Draft[] {
  const out: Draft[] = [];
  const art = earliest(record.medications.filter((m) => m.kind === 'art').map((m) => ({ date: m.authoredOn })));
  const since = diagnosed.slice(0, 10);
  if (!art) {
    // Rapid ART: the gap is overdue once the 7 days it names have passed.
    out.push({ code: 'art-start', description: `HIV-positive since ${since} with no ART start on record: link to care and start ART (within ${RAPID_ART_DAYS} days)`, dueDate: since, overdueDate: graceAfter(since, RAPID_ART_DAYS), rule: 'SWIT5.3' });
    out.push(...retestBeforeArt(record, since, diagnosing));
  } else {
    out.push(viralLoad(record, art.date));
  }
  out.push(...discordantRetest(record, since, diagnosing));
  const screens = record.tbScreens;
  const lastScreen = latest(screens);
  if (lastScreen?.positive && !record.tbReferralDates.some((d) => d >= lastScreen.date.slice(0, 10))) {
    const due = lastScreen.date.slice(0, 10);
    out.push({ code: 'tb-evaluation', description: 'Positive TB symptom screen with no diagnostic referral after it: refer for evaluation (mWRD)', ...routineDue(due), rule: 'HIV.D4.DT.01' });
  } else {
    const due = lastScreen ? formatDate(addMonths(day(lastScreen.date), TB_SCREEN_MONTHS)) : since;
    out.push({ code: 'tb-screen', description: 'TB symptom screen (W4SS) for a person living with HIV', ...routineDue(due), rule: 'SWIT5.4' });
  }
  return out;
}

/**
 * HIV.S.4, row "Retesting prior to ART initiation" (numbered .05 in the order of the DAK table):
 * trigger HIV-positive AND NOT on ART; due on the diagnosis date; overdue and expired at ART
 * start, so it is shown as due until ART starts and never as overdue. Completed by a retest with
 * the same strategy: a conclusion its assays support, other than the diagnosing one, on or after
 * the diagnosis day. A recorded refusal closes it (SWIT 5.1). An offer beside art-start, never a
 * condition of it: ART is not held back for a retest.
 */
function retestBeforeArt(record: ClientRecord, since: string, diagnosing: Conclusion | undefined): Draft[] {
  const retested = record.conclusions.some((c) => !c.unsupported && c !== diagnosing && c.date.slice(0, 10) >= since);
  const declined = record.declinedTests.some((d) => d.slice(0, 10) >= since);
  if (retested || declined) return [];
  return [{ code: 'hiv-retest-before-art', description: 'Newly diagnosed: offer a retest with the same testing strategy to verify the HIV status before ART starts (ART is not held back for it)', dueDate: since, overdueDate: undefined, rule: 'HIV.S.4.05' }];
}


/**
 * HIV.S.4.05 retests the newly diagnosed "to verify HIV status" with the same strategy
 * (HIV.B7.DT): when the latest conclusion since the diagnosis is not HIV-positive (what its assays
 * say, when they say otherwise than its label), the status is not verified. The DAK names no
 * further row, so the gap asks for the diagnosis to be reviewed with the client at once; the
 * diagnosis stands meanwhile, and nothing here holds back or stops ART. A later positive retest
 * resolves it.
 */
function discordantRetest(record: ClientRecord, since: string, diagnosing: Conclusion | undefined): Draft[] {
  const said = (c: Conclusion): Conclusion['result'] | undefined => (!c.unsupported ? c.result : c.unsupported.kind === 'conclusion' ? c.unsupported.result : undefined);
  const retests = record.conclusions.filter((c) => c !== diagnosing && c.date.slice(0, 10) >= since && said(c) !== undefined);
  const last = latest(retests);
  const result = last && said(last);
  if (!last || result === 'positive') return [];
  const due = last.date.slice(0, 10);
  return [{ code: 'hiv-conclusion-review', description: `HIV-${result} on ${due} after the HIV-positive diagnosis of ${since}: the retest does not verify the diagnosis; review it with the client and retest with the same strategy (ART is neither held back nor stopped by this)`, dueDate: due, overdueDate: due, rule: 'HIV.S.4.05' }];
}

/**
 * HIV.S.2, rows numbered in the order of the DAK schedule table: .01 6 months after ART start,
 * .02 12 months after ART start, .03 every 12 months after a suppressed (< 50) result, .04 3
 * months after a result of 50–1000 copies/mL (after enhanced adherence counselling), .05 3 months
 * after a second consecutive one (and consider a switch from an NNRTI-based regimen), all overdue
 * at due date + 28 days; .06 at once after a result above 1000 copies/mL, overdue on its due date.
 */
function viralLoad(record: ClientRecord, artStart: string): Draft {
  const start = day(artStart);
  const since = [...record.viralLoads.filter((v) => day(v.date) >= start)].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const last = since.at(-1);
  const routine = (description: string, due: number, rule: string): Draft => ({ code: 'viral-load', ...routineDue(formatDate(due)), description, rule });
  if (!last) return routine('First routine viral load 6 months after ART start', addMonths(start, 6), 'HIV.S.2.01');
  const at = day(last.date);
  if (last.value > VL_FAILURE) {
    // HIV.S.2.06: "Due date" = trigger date and "Overdue" = "Due date": urgent, no grace.
    return { code: 'viral-load-high', description: `Viral load above ${VL_FAILURE} copies/mL: enhanced adherence counselling and review for regimen switch`, dueDate: formatDate(at), overdueDate: formatDate(at), rule: 'HIV.S.2.06' };
  }
  const elevated = (v: number): boolean => v >= VL_SUPPRESSED && v <= VL_FAILURE;
  if (elevated(last.value)) {
    const previous = since.at(-2);
    if (previous && elevated(previous.value)) return routine('Repeat viral load 3 months after a second consecutive elevated result (enhanced adherence counselling; consider switching an NNRTI-based regimen)', addMonths(at, 3), 'HIV.S.2.05');
    return routine('Repeat viral load 3 months after an elevated result (enhanced adherence counselling first)', addMonths(at, 3), 'HIV.S.2.04');
  }
  if (since.length === 1 && at < addMonths(start, 12)) return routine('Routine viral load 12 months after ART start', addMonths(start, 12), 'HIV.S.2.02');
  return routine('Routine viral load every 12 months', addMonths(at, 12), 'HIV.S.2.03');
}

/**
 * Hepatitis B vaccination (SWIT 5.6: three doses): the next dose of a started series, or the first.
 * The first is offered to every client not known to be HBsAg-positive, tested or not: no DAK row
 * makes a negative HBsAg a condition of vaccination (HIV.C.DE159 "Offer or refer for HBV testing
 * and vaccination", HIV.S.1 "Assessment and provision of vaccinations" after any HIV test; the
 * WHO 2017 position paper vaccinates adults at risk, sex workers among them), and a declined test
 * is a refusal of the test only (SWIT 5.1). Due from the negative test, else the declined one,
 * else today. A positive HBsAg ends it (vaccination cannot help; HIV.S.1 counselling instead).
 */
function hepatitisB(record: ClientRecord, asOf: string): Draft[] {
  if (record.hbsagPositive) return [];
  const doses = [...record.hbvDoses].sort();
  if (!doses.length) {
    const [due, why] = record.hbsagNegativeDate ? [record.hbsagNegativeDate.slice(0, 10), 'HBsAg negative'] : record.hbsagDeclinedDate ? [record.hbsagDeclinedDate.slice(0, 10), 'HBsAg test declined (not a condition of vaccination)'] : [asOf, 'No HBsAg result on record (testing is offered, not required)'];
    return [{ code: 'hbv-dose', description: `${why} and not vaccinated: offer hepatitis B vaccination (dose 1)`, ...routineDue(due), rule: 'HBV.STD.01' }];
  }
  const schedule: HbvSchedule = record.hbvSchedule ?? 'standard';
  const next = hbvVaccinationSchedule({ doseDates: doses.map((d) => d.slice(0, 10)), schedule }, new Date(day(asOf)));
  if (!next.ok || 'complete' in next.value) return [];
  const due = next.value.nextDoseDate;
  return [{ code: 'hbv-dose', description: `Hepatitis B vaccine dose ${doses.length + 1} (${schedule} schedule)`, ...routineDue(due), rule: next.value.rule }];
}

/** Cervical screening (SWIT 5.7; DAK HIV.S.3 rows and stop rule, ages from a birth year: decisions/cervical-screening.ts). */
function cervical(record: ClientRecord, asOf: string, diagnosed: string | undefined): Draft[] {
  if (record.gender !== 'female') return [];
  const due = cervicalScreeningDue({ birthYear: record.birthYear, livingWithHivSince: diagnosed, screens: record.cervicalScreens, asOf });
  return due ? [{ code: 'cervical-screening', ...due }] : [];
}

/** PrEP (SWIT 5.2) and opioid agonist therapy (SWIT 5.5) refills: the latest active prescription's supply running out. */
function refills(record: ClientRecord): Draft[] {
  const out: Draft[] = [];
  for (const [kind, code, rule, what] of [['prep', 'prep-refill', 'SWIT5.2', 'PrEP'], ['ost', 'ost-refill', 'SWIT5.5', 'Opioid agonist therapy']] as const) {
    const current = latest(record.medications.filter((m) => m.kind === kind && m.active).map((m) => ({ ...m, date: m.authoredOn })));
    if (!current) continue;
    const due = formatDate(addDays(day(current.authoredOn), current.supplyDays));
    out.push({ code, description: `${what} refill: the last supply (${current.supplyDays} days) runs out`, ...routineDue(due), rule });
  }
  return out;
}

/**
 * Open urgent referrals (SWIT 5.3 "referrals close the loop"): shown from the day they are made,
 * not from their deadline, since the deadline is when it is too late (post-exposure care: PEP
 * within 72 hours, SWIT 5.7); overdue from the first day that begins after the window has closed
 * (days are UTC days, as asOf). Without a deadline (priority `urgent`), the window is the day made.
 */
function referrals(record: ClientRecord): Draft[] {
  return record.urgentReferrals.map((r) => {
    const made = r.authoredOn.slice(0, 10);
    return {
      code: 'urgent-referral' as const,
      description: `Open urgent referral (${r.status}): ${r.description}${r.deadline ? ` (deadline ${r.deadline})` : ''}`,
      dueDate: made,
      overdueDate: (r.deadline && firstDayAfter(r.deadline)) || graceAfter(made, 1),
      rule: 'SWIT5.3',
      focus: `Task/${r.taskId}`,
    };
  });
}

/** The first UTC day that begins at or after the end of a window given as a FHIR date or dateTime. */
function firstDayAfter(end: string): string | undefined {
  const instant = parseDateTime(end);
  if (instant !== undefined) return formatDate(Math.ceil(instant / DAY_MS) * DAY_MS);
  // A date alone: the window runs to the end of that day.
  const d = parseDate(end);
  return d === undefined ? undefined : formatDate(addDays(d, 1));
}
