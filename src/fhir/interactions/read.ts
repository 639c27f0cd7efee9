/**
 * read, vread and history (http://hl7.org/fhir/R4/http.html#read, #vread, #history).
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { FhirContext, FhirRequest, FhirResponse, QueryPairs } from '../context';
import { principalOf, purposeOf, queryValues } from '../context';
import type { Principal } from '../../auth/principal';
import { type RequestVisibility, accessTo, assertAllowed, consentFor, requestVisibility } from '../../policy/access';
import { badRequest, gone, notFound } from '../outcome';
import { applyShape, readShape } from '../present';
import { strictHandling, versionHeaders, versionUrl } from '../respond';
import type { StoredVersion } from '../../store/port';
import { parseDateRange } from '../../search/ranges';
import { DEFAULT_COUNT, MAX_COUNT } from '../../search/parse';
import { pageLinks } from '../links';
import { instanceEntry, queryEntry, withConsents } from '../../audit/entries';
import { notModified } from '../conditional-read';

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

/**
 * GET [type]/[id], and conditional read with If-None-Match / If-Modified-Since
 * (http://hl7.org/fhir/R4/http.html#cread): 304 only after the access check, so it reveals no
 * more than a 200 would, and it is audited as a read.
 */
export async function read(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const seen = await visibleWhy(ctx, req, type, id);
  const v = found(seen?.v, type, id);
  req.audit.add(withConsents(instanceEntry('R', 'read', v), [seen?.consentId]));
  const conditions = { ifNoneMatch: req.headers['if-none-match'], ifModifiedSince: req.headers['if-modified-since'] };
  if (notModified(conditions, v)) return { status: 304, headers: versionHeaders(v) };
  return { status: 200, headers: versionHeaders(v), body: applyShape(v.resource, readShape(req.query)) };
}

/** GET [type]/[id]/_history/[vid] */
export async function vread(ctx: FhirContext, req: FhirRequest, type: string, id: string, vid: string): Promise<FhirResponse> {
  if (!(await visibleCurrent(ctx, req, type, id))) throw notFound(`${type}/${id} not found`);
  const v = found(await ctx.store.vread(type, id, vid), `${type}/${id}/_history`, vid);
  // The version asked for is decided on its own labels and client (security review): a consent
  // that shares today's version must not open an earlier one that was, say, HIV information.
  const access = await accessTo(principalOf(req), v, ctx.store, purposeOf(req));
  if (!access.visible) throw notFound(`${type}/${id}/_history/${vid} not found`);
  req.audit.add(withConsents(instanceEntry('R', 'vread', v), [access.consentId]));
  return { status: 200, headers: versionHeaders(v), body: applyShape(v.resource, readShape(req.query)) };
}

/** The instant range a `_since`/`_at` value stands for (`2026-11` is the whole month), or undefined when absent. */
function instantParam(query: QueryPairs, name: string): { low: string; high: string } | undefined {
  const raw = queryValues(query, name)[0];
  if (raw === undefined) return undefined;
  const range = parseDateRange(raw);
  if (!range) throw badRequest(`${name} must be a FHIR instant, got "${raw}"`, name);
  return range;
}

/** History entry for one version: request and response as the spec lists them. */
function historyEntry(base: string, v: StoredVersion): BundleEntry {
  const entry: BundleEntry = {
    fullUrl: `${base}/${v.type}/${v.id}`,
    request: { method: v.method, url: v.method === 'POST' ? v.type : `${v.type}/${v.id}` },
    response: {
      // What the interaction answered: a DELETE gets 200 with an OperationOutcome here.
      status: v.method === 'POST' && !v.deleted ? '201 Created' : '200 OK',
      etag: `W/"${v.versionId}"`,
      lastModified: v.lastUpdated,
      location: versionUrl(base, v),
    },
  };
  if (v.resource) entry.resource = v.resource;
  return entry;
}

/**
 * The versions of a history page the principal may see. The store decides on the resource's
 * current row; a resource seen only through consent is decided again per version, on that
 * version's labels and client, so an earlier version with other labels stays hidden.
 */
async function visibleVersions(
  ctx: FhirContext, principal: Principal, access: RequestVisibility, entries: StoredVersion[], purpose?: string,
): Promise<{ entries: StoredVersion[]; consents: (string | undefined)[] }> {
  if (!access.grants.predicate) return { entries, consents: [] };
  const kept: StoredVersion[] = [];
  const consents: (string | undefined)[] = [];
  for (const v of entries) {
    // Deleted markers carry no content; own, shared and client records do not depend on consent.
    if (!v.resource || v.custodian === principal.org || v.type === 'Patient' || !v.custodian) {
      kept.push(v);
      continue;
    }
    const consentId = consentFor(principal, v, access.grants, purpose);
    if (consentId) {
      kept.push(v);
      consents.push(consentId);
    } else if ((await accessTo(principal, v, ctx.store, purpose)).visible) kept.push(v);
  }
  return { entries: kept, consents };
}

/** The parameters of the history interaction (http://hl7.org/fhir/R4/http.html#history), with paging and the format. */
const HISTORY_PARAMETERS: ReadonlySet<string> = new Set(['_since', '_at', '_count', '_cursor', '_format']);

/** GET [type]/[id]/_history, [type]/_history, /_history with _since, _at, _count and paging. */
export async function history(ctx: FhirContext, req: FhirRequest, type?: string, id?: string): Promise<FhirResponse> {
  // Other parameters are ignored, or refused under `Prefer: handling=strict` (http://hl7.org/fhir/R4/search.html#errors).
  const unknown = req.query.find(([k]) => !HISTORY_PARAMETERS.has(k));
  if (unknown && strictHandling(req)) throw badRequest(`History takes only ${[...HISTORY_PARAMETERS].join(', ')}; got ${unknown[0]}`, unknown[0]);
  const rawCount = queryValues(req.query, '_count')[0];
  if (rawCount !== undefined && !/^\d{1,7}$/.test(rawCount)) throw badRequest('_count must be a whole number', '_count');
  const count = rawCount === undefined ? DEFAULT_COUNT : Math.min(Number(rawCount), MAX_COUNT);
  const principal = principalOf(req);
  if (type && id) {
    if (!(await visibleCurrent(ctx, req, type, id))) throw notFound(`${type}/${id} not found`);
  } else if (type) {
    assertAllowed(principal, type, 'r');
  }
  const purpose = purposeOf(req);
  const access = await requestVisibility(principal, ctx.store, purpose);
  const page = await ctx.store.history({
    type,
    id,
    since: instantParam(req.query, '_since')?.low,
    // Versions current at some point during the value's period (a date is a whole day).
    at: instantParam(req.query, '_at'),
    count,
    cursor: queryValues(req.query, '_cursor')[0],
    visibility: access.predicates,
  });
  const shown = await visibleVersions(ctx, principal, access, page.entries, purpose);
  req.audit.add(withConsents(queryEntry(id ? 'history-instance' : type ? 'history-type' : 'history-system', type ? [type] : ['*'], shown.entries), shown.consents));
  const base = ctx.config.baseUrl;
  const path = [type, id, '_history'].filter(Boolean).join('/');
  const kept = req.query.filter(([k]) => ['_since', '_at', '_count'].includes(k));
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    // The store counts versions by the resource's current row; when consent decides per version
    // that count could include versions left out, so it is not given (Bundle.total is 0..1).
    ...(access.grants.predicate ? {} : { total: page.total }),
    link: pageLinks(`${base}/${path}`, kept, page.nextCursor, { cursor: queryValues(req.query, '_cursor')[0], count }),
    entry: shown.entries.map((v) => historyEntry(base, v)),
  };
  return { status: 200, body: bundle };
}
