/**
 * Conditional read (http://hl7.org/fhir/R4/http.html#cread): a client that holds a version sends
 * `If-None-Match` or `If-Modified-Since` and gets 304 Not Modified instead of the body when it is
 * still current. Evaluation follows RFC 9110 §13.2.2: If-None-Match decides when present, and
 * If-Modified-Since is only looked at without it (and ignored when it is not a valid date).
 */
import type { StoredVersion } from '../store/port';
import { parseETag } from './respond';

/** The conditional-read headers of a request, as sent (lower-case names). */
export interface ReadConditions {
  ifNoneMatch?: string;
  ifModifiedSince?: string;
}

/** True when `If-None-Match` names the version: `*`, or a list of entity tags compared weakly. */
function matchesAny(ifNoneMatch: string, versionId: string): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => parseETag(tag) === versionId);
}

/** True when the version was last changed no later than `ifModifiedSince` (an HTTP-date, second precision). */
function unmodifiedSince(ifModifiedSince: string, lastUpdated: string): boolean {
  const since = Date.parse(ifModifiedSince);
  if (Number.isNaN(since)) return false;
  // Last-Modified is sent rounded down to the second, so compare at that precision.
  return Math.floor(Date.parse(lastUpdated) / 1000) * 1000 <= since;
}

/** True when the client's copy of the resource is current and the answer is 304. */
export function notModified(conditions: ReadConditions, v: Pick<StoredVersion, 'versionId' | 'lastUpdated'>): boolean {
  if (conditions.ifNoneMatch !== undefined) return matchesAny(conditions.ifNoneMatch, v.versionId);
  if (conditions.ifModifiedSince !== undefined) return unmodifiedSince(conditions.ifModifiedSince, v.lastUpdated);
  return false;
}
