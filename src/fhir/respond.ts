/**
 * Turning stored versions into HTTP responses: ETag, Last-Modified, Location and
 * `Prefer: return=…` (http://hl7.org/fhir/R4/http.html#ops).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { FhirRequest, FhirResponse } from './context';
import { header } from './context';
import { informational } from './outcome';
import type { StoredVersion } from '../store/port';

/** The weak ETag for a version id. */
export function etag(versionId: string): string {
  return `W/"${versionId}"`;
}

/** Parses an If-Match value (`W/"3"`, `"3"` or `3`) to a version id, or undefined when unparseable. */
export function parseETag(value: string): string | undefined {
  const m = /^(?:W\/)?"?([A-Za-z0-9\-.]{1,64})"?$/.exec(value.trim());
  return m?.[1];
}

/** Location of a version: `{base}/{type}/{id}/_history/{vid}`. */
export function versionUrl(base: string, v: Pick<StoredVersion, 'type' | 'id' | 'versionId'>): string {
  return `${base}/${v.type}/${v.id}/_history/${v.versionId}`;
}

/** ETag and Last-Modified for a version. */
export function versionHeaders(v: StoredVersion): Record<string, string> {
  return { ETag: etag(v.versionId), 'Last-Modified': new Date(v.lastUpdated).toUTCString() };
}

export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

/** Reads `Prefer: return=…`; the default is the representation. */
export function returnPreference(req: FhirRequest): ReturnPreference {
  const m = /(?:^|[;,\s])return=(minimal|representation|OperationOutcome)\b/.exec(header(req, 'prefer') ?? '');
  return (m?.[1] as ReturnPreference | undefined) ?? 'representation';
}

/** True when the client asked for `Prefer: handling=strict`. */
export function strictHandling(req: FhirRequest): boolean {
  return /(?:^|[;,\s])handling=strict\b/.test(header(req, 'prefer') ?? '');
}

/** Response for a write: status, version headers, Location (on create/update), body per Prefer. */
export function writeResponse(req: FhirRequest, base: string, status: number, v: StoredVersion, message: string): FhirResponse {
  const headers = { ...versionHeaders(v), Location: versionUrl(base, v) };
  const pref = returnPreference(req);
  if (pref === 'minimal') return { status, headers };
  if (pref === 'OperationOutcome') return { status, headers, body: informational(message) };
  return { status, headers, body: v.resource as Resource };
}
