/**
 * Dates in de-identified exports. A FHIR date, dateTime or instant
 * (http://hl7.org/fhir/R4/datatypes.html#dateTime) is either shifted by a whole number of days
 * that is fixed per client (intervals within one client's record — diagnosis to ART start, PEP
 * within 72 hours — stay true, calendar dates do not), or cut to its month (calendar periods for
 * indicators stay true, intervals do not). Either way no exact date leaves the server.
 */
import { createHmac } from 'node:crypto';
import type { DateHandling } from './job';

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Largest shift in days, either way; 182 keeps a date within about half a year of the truth. */
export const MAX_SHIFT_DAYS = 182;

/** Whether a string has the lexical form of a FHIR date, dateTime or instant. */
export function isFhirDate(s: string): boolean {
  return DATE_RE.test(s);
}

/** The client's offset: a keyed hash of the client id mapped to ±1…MAX_SHIFT_DAYS days (never 0). */
export function clientShiftDays(key: Buffer, clientId: string): number {
  const n = createHmac('sha256', key).update(`shift|${clientId}`).digest().readUInt32BE(0);
  const days = (n % (2 * MAX_SHIFT_DAYS)) - MAX_SHIFT_DAYS;
  return days >= 0 ? days + 1 : days;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Shifts a date by `days`, keeping its precision and time of day; a month moves by whole months, a year stays. */
export function shiftDate(value: string, days: number): string {
  const m = DATE_RE.exec(value);
  if (!m) return value;
  const [, y, mo, d, time] = m;
  if (mo === undefined) return value;
  if (d === undefined) {
    const months = Number(y) * 12 + Number(mo) - 1 + Math.round(days / 30.4);
    return `${pad(Math.floor(months / 12), 4)}-${pad((months % 12) + 1)}`;
  }
  const t = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d) + days));
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}${time ?? ''}`;
}

/** Cuts a date to its month (a year stays a year). */
export function monthOf(value: string): string {
  const m = DATE_RE.exec(value);
  if (!m) return value;
  return m[2] === undefined ? m[1]! : `${m[1]}-${m[2]}`;
}

/**
 * The date rule for one resource: shift by the client's offset, or by month; no client → month.
 * `known`, when given, is the client's offset already computed (clientShiftDays).
 */
export function dateRule(handling: DateHandling, key: Buffer, clientId: string | undefined, known?: number): (value: string) => string {
  if (handling === 'shift' && clientId) {
    const days = known ?? clientShiftDays(key, clientId);
    return (v) => shiftDate(v, days);
  }
  return monthOf;
}
