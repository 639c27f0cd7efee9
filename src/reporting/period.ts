/**
 * Date arithmetic of reporting periods: whole UTC days, both ends inclusive (docs/reporting.md),
 * turned into the half-open instant ranges stores compare index bounds against.
 */

/** ISO instant of the first moment of a date (UTC). */
export const dayStart = (date: string): string => `${date}T00:00:00.000Z`;

/** The date `days` after `date` (YYYY-MM-DD). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The date `months` before `date`, clamped to the month's last day (2024-08-31 − 6 months = 2024-02-29). */
export function monthsBefore(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(y, m - 1 - months, 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d, last));
  return target.toISOString().slice(0, 10);
}

/**
 * Whether [start, end] is a period a small-cell suppressed report may cover: a calendar month, a
 * calendar quarter, a half year (January–June, July–December), or twelve whole months from the
 * first of any month (fiscal years differ between countries). Free dates would let two reports a
 * day apart be subtracted to isolate one client, which suppression of each report cannot hide.
 */
export function isReportingPeriod(start: string, end: string): boolean {
  const [y, m, d] = start.split('-').map(Number) as [number, number, number];
  if (d !== 1) return false;
  const months = (n: number): string => addDays(new Date(Date.UTC(y, m - 1 + n, 1)).toISOString().slice(0, 10), -1);
  if (end === months(1) || end === months(12)) return true;
  if (end === months(3)) return (m - 1) % 3 === 0;
  return end === months(6) && (m === 1 || m === 7);
}
