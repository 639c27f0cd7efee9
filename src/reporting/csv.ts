/**
 * The indicator extract as rows (JSON) or CSV, one row per indicator × stratum, in the column
 * layout of docs/reporting.md. Masked figures are empty cells named in `suppressed`, so a
 * spreadsheet or a DHIS2 data value set import (after mapping indicator/stratum to data element and
 * category option combo) never sees a made-up number.
 */
import type { Figure, IndicatorResult, Row } from './evaluate';

export const COLUMNS = [
  'indicator', 'ref', 'title', 'period_start', 'period_end', 'dhis2_period', 'org_unit', 'stratifier', 'stratum',
  'numerator', 'denominator', 'value', 'suppressed', 'mer', 'gam', 'gf',
] as const;
export type ExtractRow = Record<(typeof COLUMNS)[number], string | number | null>;

/** The DHIS2 period id (https://docs.dhis2.org/en/develop/using-the-api/dhis-core-version-master/data.html) of a whole month, quarter or year; null otherwise. */
export function dhis2Period(start: string, end: string): string | null {
  const [y, m, d] = start.split('-').map(Number) as [number, number, number];
  if (d !== 1) return null;
  const lastDay = (year: number, month: number): string => new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
  if (end === lastDay(y, m)) return `${y}${String(m).padStart(2, '0')}`;
  if ((m - 1) % 3 === 0 && end === lastDay(y, m + 2)) return `${y}Q${(m - 1) / 3 + 1}`;
  if (m === 1 && end === `${y}-12-31`) return String(y);
  return null;
}

const num = (f: Figure): number | null => ('masked' in f ? null : f.count);

function extractRow(r: IndicatorResult, row: Row): ExtractRow {
  const i = r.indicator;
  const proportion = i.scoring === 'proportion';
  const masked: string[] = [];
  if ('masked' in row.numerator) masked.push('numerator');
  if (proportion && 'masked' in row.population) masked.push('denominator');
  let value: number | null;
  if (proportion) {
    value = row.score && 'ratio' in row.score ? Math.round(row.score.ratio * 10000) / 10000 : null;
    if (row.score && 'masked' in row.score) masked.push('value');
  } else {
    value = num(row.numerator);
    if (value === null) masked.push('value');
  }
  return {
    indicator: i.id,
    ref: i.ref ?? null,
    title: i.title,
    period_start: r.scope.periodStart,
    period_end: r.scope.periodEnd,
    dhis2_period: dhis2Period(r.scope.periodStart, r.scope.periodEnd),
    org_unit: r.scope.custodian ?? 'ALL',
    stratifier: row.stratifier,
    stratum: row.value,
    numerator: num(row.numerator),
    denominator: proportion ? num(row.population) : null,
    value,
    suppressed: masked.join(';'),
    mer: i.alignment.mer ?? null,
    gam: i.alignment.gam ?? null,
    gf: i.alignment.gf ?? null,
  };
}

/** Every row of the results: each indicator's total, then its strata. */
export function extractRows(results: readonly IndicatorResult[]): ExtractRow[] {
  return results.flatMap((r) => [extractRow(r, r.total), ...r.rows.map((row) => extractRow(r, row))]);
}

/** One CSV field (RFC 4180), with text that a spreadsheet would run as a formula defused. */
function field(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The rows as CSV with a header line and CRLF line ends (RFC 4180). */
export function toCsv(rows: readonly ExtractRow[]): string {
  const lines = [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => field(r[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
