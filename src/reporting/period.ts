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
