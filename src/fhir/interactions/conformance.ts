/**
 * The server's own definitional resources (SearchParameter, OperationDefinition) are served
 * from memory: they come from the code, so they cannot drift from it and need no storage.
 * Read and a small search (_id, url, code, base, type, name; paged, with _summary and _elements).
 */
import type { BundleEntry, Resource } from '@medplum/fhirtypes';
import { type FhirContext, type FhirRequest, type FhirResponse, type QueryPairs, principalOf } from '../context';
import { badRequest, notFound } from '../outcome';
import { applyShape, readShape } from '../present';
import { pageLinks } from '../links';
import { searchset } from './search';
import { strictHandling } from '../respond';
import { assertAllowed } from '../../policy/access';
import { DEFAULT_COUNT, MAX_COUNT } from '../../search/parse';
import { splitOr } from '../../search/parse-values';

export const CONFORMANCE_TYPES = ['SearchParameter', 'OperationDefinition'];

/** The search parameters these types offer, with their R4 types (for the CapabilityStatement). */
export const CONFORMANCE_SEARCH: Readonly<Record<string, 'token' | 'uri' | 'string'>> = {
  _id: 'token', url: 'uri', code: 'token', name: 'string', type: 'token', base: 'token',
};

const FILTERS: Record<keyof typeof CONFORMANCE_SEARCH, (r: Record<string, unknown>, v: string) => boolean> = {
  _id: (r, v) => r.id === v,
  url: (r, v) => r.url === v,
  code: (r, v) => r.code === v,
  name: (r, v) => typeof r.name === 'string' && r.name.toLowerCase().startsWith(v.toLowerCase()),
  type: (r, v) => r.type === v,
  base: (r, v) => Array.isArray(r.base) ? r.base.includes(v) : r.base === v,
};

function resources(ctx: FhirContext, type: string): Resource[] {
  return type === 'SearchParameter' ? ctx.registry.all() : ctx.operations.definitions();
}

/** GET SearchParameter/[id] and OperationDefinition/[id]: the role check and the audit trail as for any read. */
export function readConformance(ctx: FhirContext, req: FhirRequest, type: string, id: string): FhirResponse {
  assertAllowed(principalOf(req), type, 'r');
  const found = resources(ctx, type).find((r) => r.id === id);
  if (!found) throw notFound(`${type}/${id} not found`);
  req.audit.add({ action: 'R', subtype: 'read', outcome: '0', references: [`${type}/${id}`] });
  return { status: 200, body: found };
}

/** Parameters that shape or page the result rather than filter it. */
const RESULT_PARAMETERS = new Set(['_count', '_cursor', '_summary', '_elements', '_format']);

/**
 * GET SearchParameter?… and OperationDefinition?… over the in-memory definitions, paged like every
 * search (http://hl7.org/fhir/R4/http.html#paging; the list is fixed, so the cursor is an offset).
 * Unknown parameters are ignored and reported, or refused under `Prefer: handling=strict`.
 */
export function searchConformance(ctx: FhirContext, req: FhirRequest, type: string): FhirResponse {
  assertAllowed(principalOf(req), type, 's');
  const shape = readShape(req.query);
  let count = DEFAULT_COUNT;
  let offset = 0;
  let all = resources(ctx, type) as unknown as Record<string, unknown>[];
  const used: QueryPairs = [];
  const ignored: string[] = [];
  for (const [name, value] of req.query) {
    if (name === '_count') {
      if (!/^\d{1,7}$/.test(value)) throw badRequest('_count must be a whole number', '_count');
      count = Math.min(Number(value), MAX_COUNT);
    } else if (name === '_cursor') {
      if (!/^\d{1,7}$/.test(value)) throw badRequest('Invalid paging cursor', '_cursor');
      offset = Number(value);
      continue;
    } else if (!RESULT_PARAMETERS.has(name)) {
      const filter = FILTERS[name];
      if (!filter) {
        if (strictHandling(req)) throw badRequest(`${type} supports only ${Object.keys(FILTERS).join(', ')}`, name);
        ignored.push(name);
        continue;
      }
      const alternatives = splitOr(value);
      all = all.filter((r) => alternatives.some((v) => filter(r, v)));
    }
    used.push([name, value]);
  }
  const base = ctx.config.baseUrl;
  const page = shape.summary === 'count' ? [] : all.slice(offset, offset + count);
  req.audit.add({ action: 'R', subtype: 'search-type', outcome: '0', query: { types: [type], results: page.length } });
  // `_count=0` pages nothing: a next link would point at the same page for ever.
  const more = shape.summary !== 'count' && count > 0 && offset + count < all.length;
  const entry: BundleEntry[] = page.map((r) => ({
    fullUrl: `${base}/${type}/${String(r.id)}`,
    resource: applyShape(r as unknown as Resource, shape),
    search: { mode: 'match' },
  }));
  const link = pageLinks(`${base}/${type}`, used, more ? String(offset + count) : undefined, { cursor: offset ? String(offset) : undefined, count });
  return { status: 200, body: searchset(entry, ignored, link, all.length) };
}

/** Whether a parameter query for `type` would be served from memory. */
export function isConformanceType(type: string): boolean {
  return CONFORMANCE_TYPES.includes(type);
}

