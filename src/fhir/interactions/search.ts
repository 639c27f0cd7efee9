/**
 * Search interactions (http://hl7.org/fhir/R4/http.html#search): type, system and compartment
 * search, and Patient/$everything. Each parses once into a plan, runs it, and wraps the page in
 * a searchset Bundle.
 */
import type { Bundle, BundleEntry, BundleLink } from '@medplum/fhirtypes';
import type { FhirContext, FhirRequest, FhirResponse, QueryPairs } from '../context';
import { principalOf, purposeOf, queryValues } from '../context';
import { accessTo, allows, assertAllowed, consentFor, readableTypes, requestVisibility } from '../../policy/access';
import { badRequest, ignoredParameters, notFound } from '../outcome';
import { applyShape, readShape } from '../present';
import { strictHandling } from '../respond';
import { parseSearch } from '../../search/parse';
import type { Predicate } from '../../search/plan';
import { parseDateRange } from '../../search/ranges';
import { compartmentTypes, inPatientCompartment } from '../../search/compartment';
import { SUPPORTED_TYPES, isSupportedType } from '../resource-types';
import { pageLinks } from '../links';
import { queryEntry, withConsents } from '../../audit/entries';
import { resolveValueSets, storedValueSets } from '../../search/value-sets';

interface SearchScope {
  types: string[];
  /** Extra predicates the scope implies (compartment membership). */
  where?: Predicate[];
  /** URL of this search without its query, for links. */
  path: string;
}

async function searchBundle(ctx: FhirContext, req: FhirRequest, scope: SearchScope, query: QueryPairs): Promise<FhirResponse> {
  const shape = readShape(query);
  const { plan, used, ignored } = parseSearch(ctx.registry, scope.types, query, { strict: strictHandling(req), baseUrl: ctx.config.baseUrl });
  plan.where.push(...(scope.where ?? []));
  const principal = principalOf(req);
  const purpose = purposeOf(req);
  const access = await requestVisibility(principal, ctx.store, purpose);
  plan.visibility = access.predicates;
  await resolveValueSets(plan, storedValueSets((p) => ctx.store.search(p)));
  const result = await ctx.store.search(plan);
  const found = [...result.matches, ...result.included];
  const entry0 = queryEntry(scope.path ? (scope.path.includes('$everything') ? '$everything' : 'search-type') : 'search-system', scope.types.length > 5 ? ['*'] : scope.types, found);
  req.audit.add(withConsents(entry0, found.map((v) => consentFor(principal, v, access.grants, purpose))));
  const base = ctx.config.baseUrl;
  const entry: BundleEntry[] = result.matches.map((v) => ({
    fullUrl: `${base}/${v.type}/${v.id}`,
    resource: applyShape(v.resource!, shape),
    search: { mode: 'match' },
  }));
  for (const v of result.included) {
    entry.push({ fullUrl: `${base}/${v.type}/${v.id}`, resource: applyShape(v.resource!, shape), search: { mode: 'include' } });
  }
  const link = pageLinks(`${base}/${scope.path}`, used, result.nextCursor, { cursor: plan.cursor, count: plan.count });
  return { status: 200, body: searchset(entry, ignored, link, result.total) };
}

/**
 * A searchset Bundle of `entry` and, when parameters were ignored, the OperationOutcome entry that
 * tells the client so (http://hl7.org/fhir/R4/search.html#errors).
 */
export function searchset(entry: BundleEntry[], ignored: readonly string[], link: BundleLink[], total?: number): Bundle {
  const all: BundleEntry[] = ignored.length ? [...entry, { resource: ignoredParameters(ignored), search: { mode: 'outcome' } }] : entry;
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    // Under `_total=none` nothing was counted; Bundle.total is 0..1, so it is left out rather than guessed.
    ...(total !== undefined ? { total } : {}),
    link,
    // FHIR JSON has no empty arrays.
    ...(all.length ? { entry: all } : {}),
  };
}

/** GET [type]?… and POST [type]/_search (form parameters merged by the HTTP layer). */
export function search(ctx: FhirContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  assertAllowed(principalOf(req), type, 's');
  const now = new Date();
  const query = ctx.searchRewrites.filter((r) => r.type === type).reduce((q, r) => r.rewrite(q, ctx, now), req.query);
  return searchBundle(ctx, req, { types: [type], path: type }, query);
}

/** `_type=A,B` as a list of supported types the caller may search; every readable type when absent. */
function typesParam(req: FhirRequest, fallback: string[]): string[] {
  const principal = principalOf(req);
  const raw = queryValues(req.query, '_type');
  if (!raw.length) return fallback.filter((t) => allows(principal, t, 's'));
  const types = raw.flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
  for (const t of types) if (!isSupportedType(t)) throw badRequest(`_type names an unsupported type "${t}"`, '_type');
  for (const t of types) assertAllowed(principal, t, 's');
  return types;
}

/**
 * GET [base]?_type=… (system search). Without `_type` it covers every type the caller may read
 * except AuditEvent, which is searched on its own (src/search/parse.ts).
 */
export function systemSearch(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const types = typesParam(req, readableTypes(principalOf(req)).filter((t) => SUPPORTED_TYPES.includes(t) && t !== 'AuditEvent'));
  return searchBundle(ctx, req, { types, path: '' }, req.query);
}

async function requirePatient(ctx: FhirContext, req: FhirRequest, id: string): Promise<void> {
  const p = await ctx.store.read('Patient', id);
  if (!p || p.deleted || !(await accessTo(principalOf(req), p, ctx.store, purposeOf(req))).visible) throw notFound(`Patient/${id} not found`);
}

/** GET Patient/[id]/[type] (http://hl7.org/fhir/R4/http.html#vsearch). */
export async function compartmentSearch(ctx: FhirContext, req: FhirRequest, id: string, type: string): Promise<FhirResponse> {
  if (!isSupportedType(type)) throw notFound(`Resource type "${type}" is not supported`);
  assertAllowed(principalOf(req), type, 's');
  await requirePatient(ctx, req, id);
  const member = inPatientCompartment(ctx.registry, type, id);
  if (!member) throw badRequest(`${type} is not in the Patient compartment`);
  return searchBundle(ctx, req, { types: [type], where: [member], path: `Patient/${id}/${type}` }, req.query);
}

/** GET Patient/[id]/$everything with _since, _type and _count (http://hl7.org/fhir/R4/patient-operation-everything.html). */
export async function patientEverything(ctx: FhirContext, req: FhirRequest, id: string): Promise<FhirResponse> {
  await requirePatient(ctx, req, id);
  const wanted = typesParam(req, ['Patient', ...compartmentTypes()]);
  const members = wanted.map((t) => inPatientCompartment(ctx.registry, t, id)).filter((p): p is Predicate => !!p);
  const where: Predicate[] = [{ kind: 'or', any: members }];
  const since = queryValues(req.query, '_since')[0];
  if (since !== undefined) {
    const range = parseDateRange(since);
    if (!range) throw badRequest('_since must be a FHIR instant', '_since');
    where.push({ kind: 'lastUpdated', prefix: 'ge', range });
  }
  const query = req.query.filter(([k]) => ['_count', '_cursor', '_summary', '_elements'].includes(k));
  const kept = req.query.filter(([k]) => k === '_since' || k === '_type');
  const res = await searchBundle(ctx, req, { types: wanted, where, path: `Patient/${id}/$everything` }, query);
  const bundle = res.body as Bundle;
  // Keep _since/_type in the links so the next page is the same query.
  bundle.link = bundle.link?.map((l) => ({ ...l, url: addPairs(l.url!, kept) }));
  return res;
}

function addPairs(url: string, pairs: QueryPairs): string {
  if (!pairs.length) return url;
  const extra = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return url.includes('?') ? `${url}&${extra}` : `${url}?${extra}`;
}
