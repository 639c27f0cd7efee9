/**
 * Type-level search (http://hl7.org/fhir/R4/http.html#search): parse once into a plan,
 * run it on the store, wrap the page in a searchset Bundle.
 */
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { FhirContext, FhirRequest, FhirResponse, QueryPairs } from '../context';
import { issue, outcome } from '../outcome';
import { applyShape, readShape } from '../present';
import { strictHandling } from '../respond';
import { parseSearch } from '../../search/parse';
import { pageLinks } from '../links';

/** GET [type]?… and POST [type]/_search (form parameters merged by the HTTP layer). */
export async function search(ctx: FhirContext, req: FhirRequest, type: string, query: QueryPairs = req.query): Promise<FhirResponse> {
  const shape = readShape(query);
  const { plan, used, ignored } = parseSearch([type], query, { strict: strictHandling(req) });
  const result = await ctx.store.search(plan);
  const base = ctx.config.baseUrl;
  const entry: BundleEntry[] = result.matches.map((v) => ({
    fullUrl: `${base}/${v.type}/${v.id}`,
    resource: applyShape(v.resource!, shape),
    search: { mode: 'match' },
  }));
  for (const v of result.included) {
    entry.push({ fullUrl: `${base}/${v.type}/${v.id}`, resource: applyShape(v.resource!, shape), search: { mode: 'include' } });
  }
  if (ignored.length) {
    entry.push({
      resource: outcome(...ignored.map((name) => issue('not-supported', `Search parameter "${name}" is not supported and was ignored`, name, 'warning'))),
      search: { mode: 'outcome' },
    });
  }
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(result.total !== undefined ? { total: result.total } : {}),
    link: pageLinks(`${base}/${type}`, used, result.nextCursor),
    ...(entry.length ? { entry } : {}),
  };
  return { status: 200, body: bundle };
}
