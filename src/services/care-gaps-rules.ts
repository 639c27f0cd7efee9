/**
 * Care gaps: what is due or overdue for one client on a given day, from the facts of their record
 * that the caller may see. Pure: the operation (care-gaps.ts) gathers the facts, this decides.
 * Every gap names the rule that fired: a DAK decision-table row or schedule (HIV.B7.DT, HIV.B9.DT,
 * HIV.D4.DT, HIV.S.2, HIV.S.3), the HBV schedule ids of hbv-vaccination.ts, or a SWIT section.
 * Gaps are offers, never preconditions (SWIT 5.1): nothing here blocks any other service.
 */
import { addDays, addMonths, formatDate, parseDate } from './decisions/dates';
import { hivRetestDue } from './decisions/hiv-retest';
import { hbvVaccinationSchedule, type HbvSchedule } from './decisions/hbv-vaccination';
import type { ClientRecord } from './care-gaps-record';

export type GapCode =
  | 'hiv-test' | 'hiv-testing-incomplete' | 'hiv-retest' | 'art-start' | 'viral-load' | 'viral-load-high'
  | 'tb-screen' | 'tb-evaluation' | 'hbv-dose' | 'cervical-screening' | 'prep-refill' | 'ost-refill' | 'urgent-referral';

export interface Gap {
  code: GapCode;
  description: string;
  dueDate: string;
  rule: string;
  /** 'overdue' once the due date is more than OVERDUE_DAYS past (DAK schedules HIV.S.2–S.4: "Due date + 28 days"). */
  status: 'due' | 'overdue';
  /** The resource the gap is about, when there is one (a Task for a referral). */
  focus?: string;
}

/** DAK HIV.S.2/S.3/S.4 "Overdue" column: due date + 28 days. */
export const OVERDUE_DAYS = 28;
/** HIV.S.2: viral load thresholds in copies/mL (suppressed below 50; above 1000 is treatment failure). */
export const VL_SUPPRESSED = 50;
export const VL_FAILURE = 1000;
/** WHO recommends ART start within 7 days of diagnosis, same day when ready (SWIT 5.3, WHO 2017 rapid ART). */
export const RAPID_ART_DAYS = 7;
/** Project choice: a TB symptom screen at least yearly for people living with HIV (SWIT 5.4, DAK HIV.D4.DT at every visit). */
export const TB_SCREEN_MONTHS = 12;
/** HIV.S.3: rescreening interval for women living with HIV where HPV DNA testing is not available (VIA/cytology). */
export const CERVICAL_WLHIV_YEARS = 3;

type Draft = Omit<Gap, 'status'>;

const day = (d: string): number => parseDate(d.slice(0, 10)) ?? Number.NaN;
const iso = (ms: number): string => formatDate(ms);
const latest = <T extends { date: string }>(xs: readonly T[]): T | undefined => xs.reduce<T | undefined>((a, x) => (!a || x.date > a.date ? x : a), undefined);
const earliest = <T extends { date: string }>(xs: readonly T[]): T | undefined => xs.reduce<T | undefined>((a, x) => (!a || x.date < a.date ? x : a), undefined);

/** The care gaps of a client on `asOf` (FHIR date), due or overdue, earliest first. */
export function careGaps(record: ClientRecord, asOf: string): Gap[] {
  const today = day(asOf);
  const drafts: Draft[] = [];
  const positive = earliest(record.conclusions.filter((c) => c.result === 'positive'));
  const diagnosed = positive?.date ?? (record.hivConditionDate ? record.hivConditionDate : undefined);
  if (diagnosed) drafts.push(...livingWithHiv(record, diagnosed));
  else drafts.push(...hivTesting(record, today));
  drafts.push(...hepatitisB(record, today), ...cervical(record, asOf, diagnosed), ...refills(record), ...referrals(record));
  return drafts
    .filter((g) => day(g.dueDate) <= today)
    .map((g) => ({ ...g, status: today > addDays(day(g.dueDate), OVERDUE_DAYS) ? 'overdue' as const : 'due' as const }))
    .sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.code.localeCompare(b.code)));
}

/** HIV testing for someone not known to live with HIV: strategy completion (HIV.B7.DT), retest (HIV.B9.DT), first test. */
function hivTesting(record: ClientRecord, today: number): Draft[] {
  const last = latest(record.conclusions);
  const pending = record.pendingStrategy && (!last || record.pendingStrategy.date > last.date) ? record.pendingStrategy : undefined;
  if (pending) {
    return [{ code: 'hiv-testing-incomplete', description: `Complete the HIV testing strategy: next assay ${pending.nextStep}`, dueDate: pending.date.slice(0, 10), rule: pending.rule }];
  }
  if (!last) return [{ code: 'hiv-test', description: 'No HIV test on record: offer HIV testing (voluntary)', dueDate: iso(today), rule: 'SWIT5.2' }];
  if (last.result === 'inconclusive') {
    return [{ code: 'hiv-retest', description: 'Inconclusive HIV result: retest after 14 days', dueDate: last.retestDate ?? iso(addDays(day(last.date), 14)), rule: last.rule }];
  }
  const retest = hivRetestDue({ lastNegativeTestDate: last.date.slice(0, 10), keyPopulation: record.keyPopulation, onPrep: record.medications.some((m) => m.kind === 'prep' && m.active) }, new Date(today));
  if (!retest.ok || !retest.value.nextTestDate) return [];
  return [{ code: 'hiv-retest', description: 'HIV retest due after the last negative test', dueDate: retest.value.nextTestDate, rule: retest.value.rule }];
}

/** ART start, viral load (HIV.S.2) and TB screening for a client living with HIV. */
function livingWithHiv(record: ClientRecord, diagnosed: string): Draft[] {
  const out: Draft[] = [];
  const art = earliest(record.medications.filter((m) => m.kind === 'art').map((m) => ({ date: m.authoredOn })));
  if (!art) {
    out.push({ code: 'art-start', description: `HIV-positive since ${diagnosed.slice(0, 10)} with no ART start on record: link to care and start ART (within ${RAPID_ART_DAYS} days)`, dueDate: diagnosed.slice(0, 10), rule: 'SWIT5.3' });
  } else {
    out.push(viralLoad(record, art.date));
  }
  const screens = record.tbScreens;
  const lastScreen = latest(screens);
  if (lastScreen?.positive && !record.tbReferralDates.some((d) => d >= lastScreen.date.slice(0, 10))) {
    out.push({ code: 'tb-evaluation', description: 'Positive TB symptom screen with no diagnostic referral after it: refer for evaluation (mWRD)', dueDate: lastScreen.date.slice(0, 10), rule: 'HIV.D4.DT.01' });
  } else {
    const due = lastScreen ? iso(addMonths(day(lastScreen.date), TB_SCREEN_MONTHS)) : diagnosed.slice(0, 10);
    out.push({ code: 'tb-screen', description: 'TB symptom screen (W4SS) for a person living with HIV', dueDate: due, rule: 'SWIT5.4' });
  }
  return out;
}

/**
 * HIV.S.2, rows numbered in the order of the DAK schedule table: .01 6 months after ART start,
 * .02 12 months after ART start, .03 every 12 months after a suppressed result, .04 3 months
 * after a result of 50–1000 copies/mL (after enhanced adherence counselling), .06 at once after a
 * result above 1000 copies/mL (review for regimen switch).
 */
function viralLoad(record: ClientRecord, artStart: string): Draft {
  const start = day(artStart);
  const since = record.viralLoads.filter((v) => day(v.date) >= start);
  const last = latest(since);
  if (!last) return { code: 'viral-load', description: 'First routine viral load 6 months after ART start', dueDate: iso(addMonths(start, 6)), rule: 'HIV.S.2.01' };
  const at = day(last.date);
  if (last.value > VL_FAILURE) {
    return { code: 'viral-load-high', description: `Viral load above ${VL_FAILURE} copies/mL: enhanced adherence counselling and review for regimen switch`, dueDate: iso(at), rule: 'HIV.S.2.06' };
  }
  if (last.value >= VL_SUPPRESSED) {
    return { code: 'viral-load', description: 'Repeat viral load 3 months after an elevated result (enhanced adherence counselling first)', dueDate: iso(addMonths(at, 3)), rule: 'HIV.S.2.04' };
  }
  if (since.length === 1 && at < addMonths(start, 12)) {
    return { code: 'viral-load', description: 'Routine viral load 12 months after ART start', dueDate: iso(addMonths(start, 12)), rule: 'HIV.S.2.02' };
  }
  return { code: 'viral-load', description: 'Routine viral load every 12 months', dueDate: iso(addMonths(at, 12)), rule: 'HIV.S.2.03' };
}

/** The next HBV dose of a started series, or the first dose after a negative HBsAg (SWIT 5.6: three doses). */
function hepatitisB(record: ClientRecord, today: number): Draft[] {
  if (record.hbsagPositive) return [];
  const doses = [...record.hbvDoses].sort();
  if (!doses.length) {
    if (!record.hbsagNegativeDate) return [];
    return [{ code: 'hbv-dose', description: 'HBsAg negative and not vaccinated: offer hepatitis B vaccination (dose 1)', dueDate: record.hbsagNegativeDate.slice(0, 10), rule: 'HBV.STD.01' }];
  }
  const schedule: HbvSchedule = record.hbvSchedule ?? 'standard';
  const next = hbvVaccinationSchedule({ doseDates: doses.map((d) => d.slice(0, 10)), schedule }, new Date(today));
  if (!next.ok || 'complete' in next.value) return [];
  return [{ code: 'hbv-dose', description: `Hepatitis B vaccine dose ${doses.length + 1} (${schedule} schedule)`, dueDate: next.value.nextDoseDate, rule: next.value.rule }];
}

/**
 * Cervical screening (SWIT 5.7): women living with HIV from age 25, every 3 years with VIA or
 * cytology (DAK HIV.S.3); other women aged 30–49 at least once.
 */
function cervical(record: ClientRecord, asOf: string, diagnosed: string | undefined): Draft[] {
  if (record.gender !== 'female' || record.birthYear === undefined) return [];
  const age = Number(asOf.slice(0, 4)) - record.birthYear;
  const last = latest(record.cervicalScreens.map((date) => ({ date })));
  if (diagnosed && age >= 25) {
    const turned25 = `${record.birthYear + 25}-01-01`;
    const due = last ? iso(addMonths(day(last.date), 12 * CERVICAL_WLHIV_YEARS)) : diagnosed.slice(0, 10) > turned25 ? diagnosed.slice(0, 10) : turned25;
    return [{ code: 'cervical-screening', description: 'Cervical screening for a woman living with HIV (every 3 years, VIA or cytology)', dueDate: due, rule: 'HIV.S.3' }];
  }
  if (!diagnosed && age >= 30 && age <= 49 && !last) {
    return [{ code: 'cervical-screening', description: 'Cervical screening at least once for women aged 30–49', dueDate: asOf, rule: 'SWIT5.7' }];
  }
  return [];
}

/** PrEP (SWIT 5.2) and opioid agonist therapy (SWIT 5.5) refills: the latest active prescription's supply running out. */
function refills(record: ClientRecord): Draft[] {
  const out: Draft[] = [];
  for (const [kind, code, rule, what] of [['prep', 'prep-refill', 'SWIT5.2', 'PrEP'], ['ost', 'ost-refill', 'SWIT5.5', 'Opioid agonist therapy']] as const) {
    const current = latest(record.medications.filter((m) => m.kind === kind && m.active).map((m) => ({ ...m, date: m.authoredOn })));
    if (!current) continue;
    out.push({ code, description: `${what} refill: the last supply (${current.supplyDays} days) runs out`, dueDate: iso(addDays(day(current.authoredOn), current.supplyDays)), rule });
  }
  return out;
}

/** Open urgent referrals (SWIT 5.3 "referrals close the loop"): due by their deadline, else when made. */
function referrals(record: ClientRecord): Draft[] {
  return record.urgentReferrals.map((r) => ({
    code: 'urgent-referral' as const,
    description: `Open urgent referral (${r.status}): ${r.description}`,
    dueDate: (r.deadline ?? r.authoredOn).slice(0, 10),
    rule: 'SWIT5.3',
    focus: `Task/${r.taskId}`,
  }));
}
