/**
 * The server's own definitional resources (SearchParameter, OperationDefinition) are served
 * from memory: they come from the code, so they cannot drift from it and need no storage.
 * Read and a small search (_id, url, code, base, type, name, _count) are supported.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { FhirContext, FhirRequest, FhirResponse } from '../context';
import { badRequest, notFound } from '../outcome';
import { DEFAULT_COUNT, MAX_COUNT } from '../../search/parse';
import { splitOr } from '../../search/parse-values';

export const CONFORMANCE_TYPES = ['SearchParameter', 'OperationDefinition'];

const FILTERS: Record<string, (r: Record<string, unknown>, v: string) => boolean> = {
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

/** GET SearchParameter/[id] and OperationDefinition/[id]. */
export function readConformance(ctx: FhirContext, type: string, id: string): FhirResponse {
  const found = resources(ctx, type).find((r) => r.id === id);
  if (!found) throw notFound(`${type}/${id} not found`);
  return { status: 200, body: found };
}

/** GET SearchParameter?… and OperationDefinition?… over the in-memory definitions. */
export function searchConformance(ctx: FhirContext, req: FhirRequest, type: string): FhirResponse {
  let count = DEFAULT_COUNT;
  let all = resources(ctx, type) as unknown as Record<string, unknown>[];
  for (const [name, value] of req.query) {
    if (name === '_count') {
      if (!/^\d{1,7}$/.test(value)) throw badRequest('_count must be a whole number', '_count');
      count = Math.min(Number(value), MAX_COUNT);
      continue;
    }
    const filter = FILTERS[name];
    if (!filter) throw badRequest(`${type} supports only ${Object.keys(FILTERS).join(', ')} and _count`, name);
    const alternatives = splitOr(value);
    all = all.filter((r) => alternatives.some((v) => filter(r, v)));
  }
  const base = ctx.config.baseUrl;
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: all.length,
    link: [{ relation: 'self', url: `${base}/${type}` }],
    entry: all.slice(0, count).map((r) => ({ fullUrl: `${base}/${type}/${String(r.id)}`, resource: r as unknown as Resource, search: { mode: 'match' } })),
  };
  return { status: 200, body: bundle };
}

/** Whether a parameter query for `type` would be served from memory. */
export function isConformanceType(type: string): boolean {
  return CONFORMANCE_TYPES.includes(type);
}

