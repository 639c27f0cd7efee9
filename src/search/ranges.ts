/**
 * Date precision ranges and prefix comparisons (http://hl7.org/fhir/R4/search.html#date).
 * A search value such as `2024-03` stands for the instant range [2024-03-01T00:00Z, 2024-04-01T00:00Z).
 */
import type { InstantRange, Prefix } from './plan';

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Parses a FHIR date/dateTime/instant search value into the instant range it stands for, or undefined. */
export function parseDateRange(value: string): InstantRange | undefined {
  const m = DATE_RE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo ? Number(mo) : undefined;
  const day = d ? Number(d) : undefined;
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined && (day < 1 || day > new Date(Date.UTC(year, month!, 0)).getUTCDate())) return undefined;
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59))) return undefined;
  if (h === undefined) {
    const low = Date.UTC(year, (month ?? 1) - 1, day ?? 1);
    const high =
      day !== undefined ? Date.UTC(year, month! - 1, day + 1) : month !== undefined ? Date.UTC(year, month, 1) : Date.UTC(year + 1, 0, 1);
    return { low: iso(low), high: iso(high) };
  }
  // A time without a zone is read as UTC: the server's zone would make results depend on deployment.
  const offset = tz && tz !== 'Z' ? (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) : 0;
  const base = Date.UTC(year, month! - 1, day!, Number(h), Number(mi), s ? Number(s) : 0) - offset * 60_000;
  if (s === undefined) return { low: iso(base), high: iso(base + 60_000) };
  if (frac === undefined) return { low: iso(base), high: iso(base + 1000) };
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const unit = frac.length >= 3 ? 1 : 10 ** (3 - frac.length);
  return { low: iso(base + ms), high: iso(base + ms + unit) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** One comparison of a stored instant against a bound; `or` joins the list with OR instead of AND. */
export interface RangeCondition {
  op: '>=' | '<' | '>' | '<=';
  value: string;
  or?: boolean;
}

/**
 * Conditions on a stored point-in-time value for a prefix and the search value's range.
 * `ap` is taken as within 10% of the distance between the value and now (the spec leaves it to the server).
 */
export function rangeCondition(prefix: Prefix, r: InstantRange, now = Date.now()): RangeCondition[] {
  switch (prefix) {
    case 'eq':
      return [{ op: '>=', value: r.low }, { op: '<', value: r.high }];
    case 'ne':
      return [{ op: '<', value: r.low, or: true }, { op: '>=', value: r.high, or: true }];
    case 'gt':
    case 'sa':
      return [{ op: '>=', value: r.high }];
    case 'lt':
    case 'eb':
      return [{ op: '<', value: r.low }];
    case 'ge':
      return [{ op: '>=', value: r.low }];
    case 'le':
      return [{ op: '<', value: r.high }];
    case 'ap': {
      const low = Date.parse(r.low);
      const high = Date.parse(r.high);
      const slack = Math.max(Math.abs(now - low), Math.abs(now - high)) * 0.1;
      return [{ op: '>=', value: iso(low - slack) }, { op: '<', value: iso(high + slack) }];
    }
  }
}
