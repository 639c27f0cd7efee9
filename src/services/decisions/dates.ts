/**
 * Calendar arithmetic for the decision functions, all in UTC so that the same input gives the
 * same answer on every server whatever its time zone. Dates are FHIR `date` strings
 * (YYYY-MM-DD) and instants are FHIR `dateTime` strings with a time zone.
 */

export const DAY_MS = 24 * 60 * 60 * 1000;
export const HOUR_MS = 60 * 60 * 1000;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-](0\d|1[0-4]):[0-5]\d)$/;

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** Midnight UTC of a FHIR date, or undefined for a day the calendar lacks (http://hl7.org/fhir/R4/datatypes.html#date). */
export function parseDate(text: string): number | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Date.UTC silently rolls 30 February over into March; a clinical date must not move.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month - 1)) return undefined;
  return Date.UTC(year, month - 1, day);
}

/** Epoch milliseconds of a FHIR dateTime that has a time and zone (http://hl7.org/fhir/R4/datatypes.html#dateTime). */
export function parseDateTime(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m || parseDate(m[1]!) === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The calendar date as written in a dateTime: the client's own day, not the UTC one (http://hl7.org/fhir/R4/datatypes.html#dateTime). */
export function localDateOf(dateTime: string): number | undefined {
  return parseDate(dateTime.slice(0, 10));
}

/** `date` plus whole days (https://www.rfc-editor.org/rfc/rfc3339). */
export function addDays(date: number, days: number): number {
  return date + days * DAY_MS;
}

/** `date` plus whole calendar months (https://www.rfc-editor.org/rfc/rfc3339). */
export function addMonths(date: number, months: number): number {
  // A day the target month lacks falls back to its last day (31 March + 1 month = 30 April):
  // the usual reading of "in N months", where rolling into the next month would add days.
  const d = new Date(date);
  const total = d.getUTCMonth() + months;
  const year = d.getUTCFullYear() + Math.floor(total / 12);
  const month0 = ((total % 12) + 12) % 12;
  return Date.UTC(year, month0, Math.min(d.getUTCDate(), daysInMonth(year, month0)));
}

/** Midnight UTC of the instant's UTC day (https://www.rfc-editor.org/rfc/rfc3339). */
export function utcDay(instant: number): number {
  return Math.floor(instant / DAY_MS) * DAY_MS;
}

/** A FHIR date string (http://hl7.org/fhir/R4/datatypes.html#date). */
export function formatDate(date: number): string {
  return new Date(date).toISOString().slice(0, 10);
}

/** A FHIR dateTime string in UTC, without milliseconds when there are none (http://hl7.org/fhir/R4/datatypes.html#dateTime). */
export function formatDateTime(instant: number): string {
  return new Date(instant).toISOString().replace('.000Z', 'Z');
}
