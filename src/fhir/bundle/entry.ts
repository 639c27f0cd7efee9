/**
 * Reading one Bundle.entry.request: method and URL relative to the base
 * (http://hl7.org/fhir/R4/bundle.html#Bundle.entry.request).
 */
import type { BundleEntry } from '@medplum/fhirtypes';
import type { HttpMethod, QueryPairs } from '../context';
import { badRequest } from '../outcome';

export interface EntryRequest {
  index: number;
  method: HttpMethod;
  path: string[];
  query: QueryPairs;
  entry: BundleEntry;
  ifMatch?: string;
  ifNoneExist?: string;
  /** Conditional read of a GET entry (http://hl7.org/fhir/R4/bundle-definitions.html#Bundle.entry.request.ifNoneMatch). */
  ifNoneMatch?: string;
  /** An instant here, not an HTTP-date; conditional-read.ts reads both. */
  ifModifiedSince?: string;
}

const METHODS: HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Parses entry i's request, relative to `base` when the URL is absolute. */
export function readEntryRequest(entry: BundleEntry, index: number, base: string): EntryRequest {
  const where = `Bundle.entry[${index}].request`;
  const r = entry.request;
  if (!r || typeof r.url !== 'string' || !r.url) throw badRequest('Each entry needs request.method and request.url', where);
  if (!METHODS.includes(r.method as HttpMethod)) throw badRequest(`Unsupported request.method "${String(r.method)}"`, `${where}.method`);
  let url = r.url;
  if (/^https?:\/\//.test(url)) {
    if (!url.startsWith(`${base}/`)) throw badRequest('An absolute request.url must be on this server', `${where}.url`);
    url = url.slice(base.length + 1);
  }
  const [pathPart, queryPart] = url.split(/\?(.*)/s, 2) as [string, string | undefined];
  const path = pathPart.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw badRequest('request.url is not valid URL encoding', `${where}.url`);
    }
  });
  const query: QueryPairs = [];
  if (queryPart !== undefined) for (const [k, v] of new URLSearchParams(queryPart)) query.push([k, v]);
  return {
    index,
    method: r.method as HttpMethod,
    path,
    query,
    entry,
    ...(r.ifMatch ? { ifMatch: r.ifMatch } : {}),
    ...(r.ifNoneExist ? { ifNoneExist: r.ifNoneExist } : {}),
    ...(r.ifNoneMatch ? { ifNoneMatch: r.ifNoneMatch } : {}),
    ...(r.ifModifiedSince ? { ifModifiedSince: r.ifModifiedSince } : {}),
  };
}
