/**
 * read, vread and history (http://hl7.org/fhir/R4/http.html#read, #vread, #history).
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { FhirContext, FhirRequest, FhirResponse, QueryPairs } from '../context';
import { principalOf, purposeOf, queryValues } from '../context';
import { accessTo, assertAllowed, requestVisibility } from '../../policy/access';
import { badRequest, gone, notFound } from '../outcome';
import { applyShape, readShape } from '../present';
import { versionHeaders, versionUrl } from '../respond';
import type { StoredVersion } from '../../store/port';
import { parseDateRange } from '../../search/ranges';
import { DEFAULT_COUNT, MAX_COUNT } from '../../search/parse';
import { pageLinks } from '../links';
import { instanceEntry, queryEntry, withConsents } from '../../audit/entries';

function found(v: StoredVersion | undefined, type: string, id: string): StoredVersion & { resource: Resource } {
  if (!v) throw notFound(`${type}/${id} not found`);
  if (v.deleted || !v.resource) {
    const err = gone(`${type}/${id} was deleted`);
    Object.assign(err.headers, versionHeaders(v));
    throw err;
  }
  return v as StoredVersion & { resource: Resource };
}

/** The current version when the caller may see it; otherwise undefined (as if it never existed). */
export async function visibleCurrent(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<StoredVersion | undefined> {
  return (await visibleWhy(ctx, req, type, id))?.v;
}

/** The current version and the consent that made it visible, when the caller may see it. */
async function visibleWhy(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<{ v: StoredVersion; consentId?: string } | undefined> {
  const principal = principalOf(req);
  assertAllowed(principal, type, 'r');
  const v = await ctx.store.read(type, id);
  if (!v) return undefined;
  const access = await accessTo(principal, v, ctx.store, purposeOf(req));
  return access.visible ? { v, consentId: access.consentId } : undefined;
}

/** GET [type]/[id] */
export async function read(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const seen = await visibleWhy(ctx, req, type, id);
  const v = found(seen?.v, type, id);
  req.audit.add(withConsents(instanceEntry('R', 'read', v), [seen?.consentId]));
  return { status: 200, headers: versionHeaders(v), body: applyShape(v.resource, readShape(req.query)) };
}

/** GET [type]/[id]/_history/[vid] */
export async function vread(ctx: FhirContext, req: FhirRequest, type: string, id: string, vid: string): Promise<FhirResponse> {
  if (!(await visibleCurrent(ctx, req, type, id))) throw notFound(`${type}/${id} not found`);
  const v = found(await ctx.store.vread(type, id, vid), `${type}/${id}/_history`, vid);
  req.audit.add(instanceEntry('R', 'vread', v));
  return { status: 200, headers: versionHeaders(v), body: applyShape(v.resource, readShape(req.query)) };
}

function instantParam(query: QueryPairs, name: string): string | undefined {
  const raw = queryValues(query, name)[0];
  if (raw === undefined) return undefined;
  const range = parseDateRange(raw);
  if (!range) throw badRequest(`${name} must be a FHIR instant, got "${raw}"`, name);
  return range.low;
}

/** History entry for one version: request and response as the spec lists them. */
function historyEntry(base: string, v: StoredVersion): BundleEntry {
  const entry: BundleEntry = {
    fullUrl: `${base}/${v.type}/${v.id}`,
    request: { method: v.method, url: v.method === 'POST' ? v.type : `${v.type}/${v.id}` },
    response: {
      status: v.deleted ? '204 No Content' : v.method === 'POST' ? '201 Created' : '200 OK',
      etag: `W/"${v.versionId}"`,
      lastModified: v.lastUpdated,
      location: versionUrl(base, v),
    },
  };
  if (v.resource) entry.resource = v.resource;
  return entry;
}

/** GET [type]/[id]/_history, [type]/_history, /_history with _since, _at, _count and paging. */
export async function history(ctx: FhirContext, req: FhirRequest, type?: string, id?: string): Promise<FhirResponse> {
  const rawCount = queryValues(req.query, '_count')[0];
  if (rawCount !== undefined && !/^\d{1,7}$/.test(rawCount)) throw badRequest('_count must be a whole number', '_count');
  const count = rawCount === undefined ? DEFAULT_COUNT : Math.min(Number(rawCount), MAX_COUNT);
  const principal = principalOf(req);
  if (type && id) {
    if (!(await visibleCurrent(ctx, req, type, id))) throw notFound(`${type}/${id} not found`);
  } else if (type) {
    assertAllowed(principal, type, 'r');
  }
  const page = await ctx.store.history({
    type,
    id,
    since: instantParam(req.query, '_since'),
    at: instantParam(req.query, '_at'),
    count,
    cursor: queryValues(req.query, '_cursor')[0],
    visibility: (await requestVisibility(principal, ctx.store, purposeOf(req))).predicates,
  });
  req.audit.add(queryEntry(id ? 'history-instance' : type ? 'history-type' : 'history-system', type ? [type] : ['*'], page.entries));
  const base = ctx.config.baseUrl;
  const path = [type, id, '_history'].filter(Boolean).join('/');
  const kept = req.query.filter(([k]) => ['_since', '_at', '_count'].includes(k));
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    total: page.total,
    link: pageLinks(`${base}/${path}`, kept, page.nextCursor),
    entry: page.entries.map((v) => historyEntry(base, v)),
  };
  return { status: 200, body: bundle };
}
