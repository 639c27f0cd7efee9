/**
 * Content negotiation: JSON only (http://hl7.org/fhir/R4/http.html#mime-type).
 * XML asked for by `_format` or `Accept` → 406; an unsupported request body type → 415.
 */
import { OperationOutcomeError, issue, outcome } from '../fhir/outcome';

const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir'];
const FORMAT_JSON = ['json', 'application/json', 'application/fhir+json', 'application/json+fhir'];

function fail(status: number, message: string): OperationOutcomeError {
  return new OperationOutcomeError(status, outcome(issue('not-supported', message)));
}

/** The media type without parameters, lower-cased. */
export function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/** Throws 406 unless the client accepts JSON. */
export function checkAcceptable(accept: string | undefined, format: string | undefined): void {
  if (format !== undefined && !FORMAT_JSON.includes(format.toLowerCase())) {
    throw fail(406, `_format=${format} is not supported; this server speaks application/fhir+json`);
  }
  if (!accept) return;
  const ok = accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    if (type !== '*/*' && type !== 'application/*' && !JSON_TYPES.includes(type!)) return false;
    // A range asking for another FHIR version cannot be served (http://hl7.org/fhir/R4/http.html#version-parameter).
    const version = params.find((p) => p.startsWith('fhirversion='))?.slice('fhirversion='.length).replace(/"/g, '');
    return version === undefined || version === '4.0' || version.startsWith('4.0.');
  });
  if (!ok) throw fail(406, 'This server answers only in application/fhir+json, FHIR version 4.0 (R4)');
}

export type BodyKind = 'json' | 'json-patch' | 'form';

/**
 * `POST [base]/_search` and `POST [base]/[type]/_search`: searches whose parameters may come as a
 * form-encoded body (http://hl7.org/fhir/R4/http.html#search). `path` is below the FHIR base.
 */
export function isSearchRequest(method: string, path: readonly string[]): boolean {
  if (method !== 'POST') return false;
  return (path.length === 1 && path[0] === '_search') || (path.length === 2 && path[1] === '_search');
}

/** Classifies the request body's media type for this method, or throws 415. */
export function bodyKind(method: string, contentType: string | undefined, isSearch: boolean): BodyKind {
  const type = mediaType(contentType);
  if (isSearch) {
    // A JSON body is not search parameters: reading it as none would return everything.
    if (type === 'application/x-www-form-urlencoded') return 'form';
    throw fail(415, `POST _search takes its parameters as application/x-www-form-urlencoded, not ${type ?? '(no Content-Type)'}`);
  }
  if (type && JSON_TYPES.includes(type)) return 'json';
  if (type === 'application/json-patch+json' && method === 'PATCH') return 'json-patch';
  throw fail(415, `Content-Type ${type ?? '(none)'} is not supported here; send application/fhir+json`);
}
