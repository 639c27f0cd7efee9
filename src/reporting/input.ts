/**
 * The report request shared by $evaluate-measure and /reports/indicators: the period (inclusive
 * dates), an optional subject organisation and the release flag, checked beyond the JSON schema.
 */
import { badRequest } from '../fhir/outcome';
import { ID_PATTERN } from '../fhir/resource-types';
import type { Audience } from './audience';
import { isReportingPeriod } from './period';

export interface ReportRequest {
  periodStart: string;
  periodEnd: string;
  subjectOrg?: string;
  release: boolean;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** Validates the raw values; `where` names a parameter in an error's expression. */
export function reportRequest(raw: { periodStart?: unknown; periodEnd?: unknown; subject?: unknown; release?: unknown }, where: (name: string) => string): ReportRequest {
  const { periodStart, periodEnd } = raw;
  if (typeof periodStart !== 'string' || !isDate(periodStart)) throw badRequest('periodStart must be a date (YYYY-MM-DD)', where('periodStart'));
  if (typeof periodEnd !== 'string' || !isDate(periodEnd)) throw badRequest('periodEnd must be a date (YYYY-MM-DD)', where('periodEnd'));
  if (periodEnd < periodStart) throw badRequest('periodEnd is before periodStart', where('periodEnd'));
  let subjectOrg: string | undefined;
  if (raw.subject !== undefined) {
    const ref = typeof raw.subject === 'string' ? raw.subject : (raw.subject as { reference?: unknown })?.reference;
    const m = typeof ref === 'string' ? /^Organization\/(.+)$/.exec(ref) : null;
    if (!m || !ID_PATTERN.test(m[1]!)) throw badRequest('subject must be Organization/<id>', where('subject'));
    subjectOrg = m[1]!;
  }
  const release = raw.release === true || raw.release === 'true';
  if (raw.release !== undefined && !release && raw.release !== false && raw.release !== 'false') throw badRequest('release must be true or false', where('release'));
  return { periodStart, periodEnd, ...(subjectOrg !== undefined ? { subjectOrg } : {}), release };
}

/** A suppressed report covers a whole reporting period (`isReportingPeriod`); 400 otherwise. */
export function assertPeriodFor(audience: Audience, request: ReportRequest, where: (name: string) => string): void {
  if (audience.suppress && !isReportingPeriod(request.periodStart, request.periodEnd)) {
    throw badRequest(
      'A small-cell suppressed report covers a calendar month, a calendar quarter, January-June or July-December, or twelve months from the first of a month',
      where('periodEnd'),
    );
  }
}
