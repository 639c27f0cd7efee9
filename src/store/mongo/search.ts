/**
 * Runs a SearchPlan on the `resources` collection through `ResourceQueries` (a real collection,
 * or mingo in tests): total, one keyset page, and `_include`/`_revinclude` with `:iterate`
 * (http://hl7.org/fhir/R4/search.html#include), with the semantics of src/store/sqlite/search-sql.ts
 * and include-sql.ts.
 */
import type { IncludeSpec, SearchPlan } from '../../search/plan';
import { decodeCursor, encodeCursor } from '../cursor';
import type { SearchResult } from '../port';
import { type ResourceDoc, docToVersion } from './documents';
import { type Resolve, pagePipeline, visibilityFilter, whereFilter } from './translate';
import { type Filter, and, or, regexEscape } from './values';

/** The reads a search needs on `resources`. */
export interface ResourceQueries {
  find(filter: Filter, options: { projection?: Record<string, 1>; limit?: number }): Promise<Partial<ResourceDoc>[]>;
  aggregate(pipeline: Record<string, unknown>[]): Promise<Record<string, unknown>[]>;
  count(filter: Filter): Promise<number>;
}

/** Most resources one page may include; keeps a `*:iterate` from walking the whole graph. */
export const MAX_INCLUDED = 1000;
/** Rounds of `:iterate` before stopping. */
const MAX_ITERATIONS = 4;

type Doc = ResourceDoc & Record<string, unknown>;

/** The Resolve a translation uses, over `q`. */
export function resolverOf(q: ResourceQueries): Resolve {
  return (filter, projection, limit) => q.find(filter, { projection, limit });
}

/** Whether an index element's parameter is one the include names. */
function paramMatches(spec: IncludeSpec, p: string): boolean {
  if (spec.param) return p === `${spec.param.base}.${spec.param.code}`;
  return spec.sourceType === '*' || p.startsWith(`${spec.sourceType}.`);
}

function paramFilter(spec: IncludeSpec): Filter {
  if (spec.param) return { p: `${spec.param.base}.${spec.param.code}` };
  if (spec.sourceType === '*') return {};
  return { p: { $regex: `^${regexEscape(spec.sourceType)}\\.` } };
}

/** Includes never reach AuditEvents (src/search/parse.ts): `_revinclude=*` would otherwise find the events naming a resource. */
const NOT_AUDIT: Filter = { type: { $ne: 'AuditEvent' } };

async function forward(q: ResourceQueries, vis: Filter, spec: IncludeSpec, sources: Doc[]): Promise<Doc[]> {
  const byType = new Map<string, Set<string>>();
  for (const s of sources) {
    if (spec.sourceType !== '*' && s.type !== spec.sourceType) continue;
    for (const r of s.idx.ref) {
      if (!r.t || !r.i || !paramMatches(spec, r.p) || (spec.targetType && r.t !== spec.targetType)) continue;
      if (!byType.has(r.t)) byType.set(r.t, new Set());
      byType.get(r.t)!.add(r.i);
    }
  }
  if (!byType.size) return [];
  const targets = or(...[...byType].map(([type, ids]) => ({ type, id: { $in: [...ids] } })));
  return (await q.find(and(targets, { deleted: false }, NOT_AUDIT, vis), { limit: MAX_INCLUDED + 1 })) as Doc[];
}

async function reverse(q: ResourceQueries, vis: Filter, spec: IncludeSpec, targets: Doc[]): Promise<Doc[]> {
  const byType = new Map<string, string[]>();
  for (const t of targets) byType.set(t.type, [...(byType.get(t.type) ?? []), t.id]);
  const out: Doc[] = [];
  for (const [type, ids] of byType) {
    const refs = { 'idx.ref': { $elemMatch: and(paramFilter(spec), { t: type, i: { $in: ids } }) } };
    out.push(...((await q.find(and(refs, { deleted: false }, NOT_AUDIT, vis), { limit: MAX_INCLUDED + 1 })) as Doc[]));
  }
  return out;
}

/** Resolves the plan's includes for `page`; returns them without the page's own matches. */
export async function loadIncludes(q: ResourceQueries, plan: SearchPlan, page: Doc[]): Promise<Doc[]> {
  const specs = [...(plan.include ?? []).map((s) => ({ s, rev: false })), ...(plan.revinclude ?? []).map((s) => ({ s, rev: true }))];
  if (!specs.length || !page.length) return [];
  const vis = await visibilityFilter(plan.visibility ?? [], resolverOf(q));
  const seen = new Set(page.map((r) => r.rid));
  const out: Doc[] = [];
  let frontier = page;
  for (let round = 0; round <= MAX_ITERATIONS && frontier.length && out.length < MAX_INCLUDED; round++) {
    const found: Doc[] = [];
    for (const { s, rev } of specs) {
      if (round > 0 && !s.iterate) continue;
      for (const doc of rev ? await reverse(q, vis, s, frontier) : await forward(q, vis, s, frontier)) {
        if (seen.has(doc.rid)) continue;
        seen.add(doc.rid);
        found.push(doc);
      }
    }
    out.push(...found);
    frontier = found;
  }
  return out.slice(0, MAX_INCLUDED);
}

/** Runs the plan: one page of matches, its includes, the total and the next cursor. */
export async function runSearch(q: ResourceQueries, plan: SearchPlan): Promise<SearchResult> {
  const where = await whereFilter(plan, resolverOf(q));
  const total = plan.total === 'none' && !plan.countOnly ? undefined : await q.count(where);
  if (plan.countOnly) return { matches: [], included: [], total };
  let cursorValues: (string | number | null)[] | undefined;
  if (plan.cursor) {
    const c = decodeCursor(plan.cursor);
    cursorValues = [...(c.keys ?? []), c.seq];
  }
  const rows = (await q.aggregate(pagePipeline(plan, where, cursorValues))) as Doc[];
  const more = rows.length > plan.count;
  const page = rows.slice(0, plan.count);
  const last = page[page.length - 1];
  const nextCursor = more && last ? encodeCursor({ seq: last.rid, keys: plan.sort.map((_, i) => (last[`k${i}`] as string | number | undefined) ?? null) }) : undefined;
  const included = await loadIncludes(q, plan, page);
  return { matches: page.map(docToVersion), included: included.map(docToVersion), total, nextCursor };
}
