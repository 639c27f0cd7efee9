/**
 * Cervical cancer screening due for a woman (SWIT 5.7; DAK HIV.S.3 for women living with HIV).
 * HIV.S.3 rows are numbered .01–.06 in the order of the DAK schedule table; the project uses the
 * rows "no HPV DNA test in health facility" (VIA or cytology), since the record has no facility
 * flag for HPV DNA testing: .04 first screen when diagnosed after age 25, .05 first screen when
 * diagnosed before 25, .06 rescreen every 3 years. Women not known to live with HIV: at least once
 * between 30 and 49 (SWIT 5.7, shared/domain.md).
 *
 * Birth dates are stored as a year only (PII rule), so an age is a range: in year Y someone born
 * in year B is Y − B − 1 before their birthday and Y − B from it. Every age band is decided
 * conservatively, offering rather than withholding: a band starts when the client *may* have
 * reached it (1 January of the year of the birthday) and a stop rule applies only when the client
 * is *certainly* past it; an unknown birth year may be any age. Pure.
 */
import { addDays, addMonths, formatDate, parseDate } from './dates';

export interface CervicalScreenResult {
  /** FHIR date or dateTime. */
  date: string;
  /** Absent when not recorded: never counts as negative. */
  result?: 'negative' | 'positive';
}

export interface CervicalInput {
  birthYear?: number;
  /** FHIR date of the HIV diagnosis, for a woman living with HIV. */
  livingWithHivSince?: string;
  screens: readonly CervicalScreenResult[];
  /** The day evaluated (FHIR date). */
  asOf: string;
}

export interface CervicalDue {
  dueDate: string;
  overdueDate: string;
  rule: string;
  description: string;
}

/** HIV.S.3.04–.06 (VIA or cytology): rescreening interval for women living with HIV. */
const CERVICAL_WLHIV_YEARS = 3;
/** HIV.S.3 start age for women living with HIV. */
const WLHIV_START_AGE = 25;
/** HIV.S.3 "Expiration": "Age">50 AND two consecutive negative screening results. */
const STOP_AFTER_AGE = 50;
/** SWIT 5.7: at least once for women aged 30–49. */
const ONCE_FROM_AGE = 30;
const ONCE_TO_AGE = 49;
/** DAK HIV.S.3 "Overdue" column: due date + 28 days (rows .04, .06). */
const OVERDUE_DAYS = 28;
/** HIV.S.3.05 "Overdue": trigger date (age 25) + 12 months. */
const OVERDUE_AT_25_MONTHS = 12;

/** The ages a client born in `birthYear` may have on `asOf`; an unknown year may be any age. */
export function ageRange(birthYear: number | undefined, asOf: string): { min: number; max: number } {
  if (birthYear === undefined) return { min: 0, max: Number.POSITIVE_INFINITY };
  const years = Number(asOf.slice(0, 4)) - birthYear;
  return { min: Math.max(0, years - 1), max: years };
}

/** The first day on which a client born in `birthYear` may be `age` years old: 1 January of that year. */
function mayBeAgeFrom(birthYear: number, age: number): string {
  return `${String(birthYear + age).padStart(4, '0')}-01-01`;
}

const day = (d: string): number => parseDate(d.slice(0, 10)) ?? Number.NaN;
const plusDays = (d: string, n: number): string => formatDate(addDays(day(d), n));
const plusMonths = (d: string, n: number): string => formatDate(addMonths(day(d), n));

/**
 * HIV.S.3 "Expiration", every row: certainly older than 50 (so not when the birth year leaves 50
 * possible) and the two latest screens both negative; an unrecorded result breaks the run.
 */
function screeningStopped(input: Pick<CervicalInput, 'birthYear' | 'screens' | 'asOf'>): boolean {
  if (ageRange(input.birthYear, input.asOf).min <= STOP_AFTER_AGE) return false;
  const lastTwo = [...input.screens].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0)).slice(-2);
  return lastTwo.length === 2 && lastTwo.every((s) => s.result === 'negative');
}

/** The next cervical screen due, or undefined when none is (the caller filters by due date). */
export function cervicalScreeningDue(input: CervicalInput): CervicalDue | undefined {
  if (screeningStopped(input)) return undefined;
  const last = input.screens.reduce<CervicalScreenResult | undefined>((a, s) => (!a || s.date > a.date ? s : a), undefined);
  const since = input.livingWithHivSince?.slice(0, 10);
  if (since) {
    if (last) {
      const due = plusMonths(last.date, 12 * CERVICAL_WLHIV_YEARS);
      return { dueDate: due, overdueDate: plusDays(due, OVERDUE_DAYS), rule: 'HIV.S.3.06', description: `Cervical rescreening for a woman living with HIV (every ${CERVICAL_WLHIV_YEARS} years, VIA or cytology)` };
    }
    const at25 = input.birthYear === undefined ? undefined : mayBeAgeFrom(input.birthYear, WLHIV_START_AGE);
    if (at25 && since < at25) {
      // HIV.S.3.05: trigger "Date on which client's Age=25", due then, overdue 12 months later.
      return { dueDate: at25, overdueDate: plusMonths(at25, OVERDUE_AT_25_MONTHS), rule: 'HIV.S.3.05', description: 'First cervical screening for a woman living with HIV, from age 25 (VIA or cytology)' };
    }
    // HIV.S.3.04 writes the due date as diagnosis + 3 years, where its HPV DNA row (.01) and the
    // diagnosed-before-25 rows are due at once; WHO screens women living with HIV from 25, so the
    // first screen is offered at diagnosis (earlier, never later, than the row's own date).
    return { dueDate: since, overdueDate: plusDays(since, OVERDUE_DAYS), rule: 'HIV.S.3.04', description: 'First cervical screening for a woman living with HIV diagnosed from age 25 (VIA or cytology)' };
  }
  const age = ageRange(input.birthYear, input.asOf);
  if (last || age.max < ONCE_FROM_AGE || age.min > ONCE_TO_AGE) return undefined;
  return { dueDate: input.asOf, overdueDate: plusDays(input.asOf, OVERDUE_DAYS), rule: 'SWIT5.7', description: `Cervical screening at least once for women aged ${ONCE_FROM_AGE}–${ONCE_TO_AGE}` };
}
