/**
 * Translates the storage-neutral search plan (src/search/plan.ts) into MongoDB query documents
 * and aggregation pipelines on the `resources` collection (document model: ./documents.ts),
 * with the semantics of the SQL translator (src/store/sqlite/predicate-sql.ts, search-sql.ts).
 *
 * Pure: chains and `_has` need the ids of other resources first, and get them through the
 * injected `Resolve` (a `find` on `resources`), so the same translation runs against a real
 * mongod or, in tests, against mingo over in-memory documents.
 */
import { badRequest } from '../../fhir/outcome';
import { narrowAll } from '../../search/narrow';
import type { ParamRef, ParamType, Predicate, SearchPlan, SortKey } from '../../search/plan';
import { rangeCondition } from '../../search/ranges';
import type { ResourceDoc } from './documents';
import { FALSE, type Filter, and, not, or, valueFilter } from './values';

/** Runs a sub-query on `resources`: the documents matching `filter`, projected, at most `limit`. */
export type Resolve = (filter: Filter, projection: Record<string, 1>, limit: number) => Promise<Partial<ResourceDoc>[]>;

/**
 * Most resources a chain target or `_has` source sub-query may yield. Beyond it the ids would not
 * fit one query document comfortably; the client is asked to narrow the search instead.
 */
export const MAX_SUBQUERY_IDS = 50_000;

/** The `idx` member holding each parameter type's values. */
export const IDX_FIELD: Partial<Record<ParamType, string>> = {
  token: 'token', string: 'string', reference: 'ref', date: 'date', number: 'number', quantity: 'quantity', uri: 'uri', composite: 'composite',
};

const qualified = (p: ParamRef): string => `${p.base}.${p.code}`;

function idxField(p: ParamRef): string {
  const f = IDX_FIELD[p.type];
  if (!f) throw badRequest(`Parameter ${p.code} cannot be searched`, p.code);
  return `idx.${f}`;
}

async function subquery(resolve: Resolve, filter: Filter, projection: Record<string, 1>, what: string): Promise<Partial<ResourceDoc>[]> {
  const docs = await resolve(filter, projection, MAX_SUBQUERY_IDS + 1);
  if (docs.length > MAX_SUBQUERY_IDS) throw badRequest(`The ${what} matches more than ${MAX_SUBQUERY_IDS} resources; narrow it`);
  return docs;
}

/**
 * The filter for one predicate. `visibility` applies to every other resource a predicate
 * reaches (chain targets, `_has` sources), so invisible data cannot be probed.
 */
export async function predicateFilter(p: Predicate, visibility: Predicate[], resolve: Resolve): Promise<Filter> {
  switch (p.kind) {
    case 'id':
      return { id: { [p.not ? '$nin' : '$in']: p.ids } };
    case 'lastUpdated': {
      const cond = rangeCondition(p.prefix, p.range);
      const ops: Record<string, string> = { '>=': '$gte', '<': '$lt', '>': '$gt', '<=': '$lte' };
      const parts = cond.map((c) => ({ lastUpdated: { [ops[c.op]!]: c.value } }));
      return cond[0]?.or ? or(...parts) : and(...parts);
    }
    case 'custodian':
      return { custodian: { $in: p.custodians } };
    case 'or':
      return or(...(await Promise.all(p.any.map((q) => predicateFilter(q, visibility, resolve)))));
    case 'and':
      return and(...(await Promise.all(p.all.map((q) => predicateFilter(q, visibility, resolve)))));
    case 'type':
      return { type: { $in: p.types } };
    case 'patient':
      return { patient: { $in: p.patients } };
    case 'not':
      return negatedFilter(p.inner, visibility, resolve);
    case 'enrolled':
      // Enrolments are copied onto the Patient document, so this is one indexed test.
      return { type: 'Patient', enrolled: { $in: p.orgs } };
    case 'missing': {
      const has = { [`${idxField(p.param)}.p`]: qualified(p.param) };
      return p.missing ? not(has) : has;
    }
    case 'param': {
      const alts = or(...p.values.map((v) => valueFilter(p, v)));
      const match = alts === FALSE ? FALSE : { [idxField(p.param)]: { $elemMatch: and({ p: qualified(p.param) }, alts) } };
      return p.modifier === 'not' || p.modifier === 'not-in' ? not(match) : match;
    }
    case 'chain': {
      const narrowed = narrowAll(visibility, [p.targetType]);
      const targetFilter = and(
        { type: p.targetType, deleted: false },
        await predicateFilter(p.inner, visibility, resolve),
        narrowed === false ? FALSE : await visibilityFilter(narrowed, resolve),
      );
      if (targetFilter === FALSE) return FALSE;
      const targets = await subquery(resolve, targetFilter, { id: 1 }, `chained parameter ${p.param.code}`);
      if (!targets.length) return FALSE;
      return { 'idx.ref': { $elemMatch: { p: qualified(p.param), t: p.targetType, i: { $in: targets.map((t) => t.id!) } } } };
    }
    case 'has': {
      const param = qualified(p.param);
      const narrowed = narrowAll(visibility, [p.sourceType]);
      const sourceFilter = and(
        { 'idx.ref': { $elemMatch: { p: param } } },
        { deleted: false },
        await predicateFilter(p.inner, visibility, resolve),
        narrowed === false ? FALSE : await visibilityFilter(narrowed, resolve),
      );
      if (sourceFilter === FALSE) return FALSE;
      const sources = await subquery(resolve, sourceFilter, { 'idx.ref': 1 }, `_has:${p.sourceType}:${p.param.code}`);
      const byType = new Map<string, Set<string>>();
      for (const s of sources) {
        for (const r of s.idx?.ref ?? []) {
          if (r.p !== param || !r.t || !r.i) continue;
          if (!byType.has(r.t)) byType.set(r.t, new Set());
          byType.get(r.t)!.add(r.i);
        }
      }
      return or(...[...byType].map(([type, ids]) => ({ type, id: { $in: [...ids] } })));
    }
  }
}

/**
 * NOT p, two-valued as the embedded store evaluates it: a custodian or patient test on a resource
 * without one is false, so its negation matches (`$nin` matches a missing field).
 */
async function negatedFilter(p: Predicate, visibility: Predicate[], resolve: Resolve): Promise<Filter> {
  switch (p.kind) {
    case 'custodian':
      return { custodian: { $nin: p.custodians } };
    case 'patient':
      return { patient: { $nin: p.patients } };
    case 'and':
      return or(...(await Promise.all(p.all.map((q) => negatedFilter(q, visibility, resolve)))));
    case 'or':
      return and(...(await Promise.all(p.any.map((q) => negatedFilter(q, visibility, resolve)))));
    case 'not':
      return predicateFilter(p.inner, visibility, resolve);
    default:
      return not(await predicateFilter(p, visibility, resolve));
  }
}

/** The conjunction of visibility predicates. */
export async function visibilityFilter(visibility: Predicate[], resolve: Resolve): Promise<Filter> {
  return and(...(await Promise.all(visibility.map((v) => predicateFilter(v, [], resolve)))));
}

/** The filter for the plan's matches: types, not deleted, predicates, visibility. */
export async function whereFilter(plan: SearchPlan, resolve: Resolve): Promise<Filter> {
  const visibility = plan.visibility ?? [];
  const narrowed = narrowAll(visibility, plan.types);
  const parts: Filter[] = [plan.types.length === 1 ? { type: plan.types[0] } : { type: { $in: plan.types } }, { deleted: false }];
  if (narrowed === false) return FALSE;
  for (const p of plan.where) parts.push(await predicateFilter(p, visibility, resolve));
  parts.push(await visibilityFilter(narrowed, resolve));
  return and(...parts);
}

const SORT_COLUMN: Partial<Record<ParamType, string>> = { string: 'v', token: 'c', number: 'v', quantity: 'v', uri: 'v', reference: 'i' };

/** The aggregation expression a sort key orders by; never null, so keyset comparisons stay total. */
export function sortExpression(key: SortKey): unknown {
  if (key.param === '_id') return '$id';
  if (key.param === '_lastUpdated') return '$lastUpdated';
  const param = key.param;
  const column = param.type === 'date' ? (key.descending ? 'hi' : 'lo') : SORT_COLUMN[param.type];
  if (!column) throw badRequest(`Cannot sort by ${param.code}`, '_sort');
  const numeric = param.type === 'number' || param.type === 'quantity';
  // Lowest value ascending, highest descending (as the SQL store's MIN/MAX).
  const values = { $map: { input: { $filter: { input: `$${idxField(param)}`, as: 'e', cond: { $eq: ['$$e.p', qualified(param)] } } }, as: 'e', in: `$$e.${column}` } };
  return { $ifNull: [{ [key.descending ? '$max' : '$min']: values }, numeric ? -1e308 : ''] };
}

type Key = string | number | null;

/** "After the cursor row" for mixed-direction keys: (k0 > v0) OR (k0 = v0 AND k1 > v1) … */
export function afterCursor(keys: { field: string; desc: boolean }[], values: Key[]): Filter {
  const alternatives: Filter[] = [];
  for (let i = 0; i < keys.length; i++) {
    const f: Filter = {};
    for (let j = 0; j < i; j++) f[keys[j]!.field] = values[j];
    f[keys[i]!.field] = { [keys[i]!.desc ? '$lt' : '$gt']: values[i] };
    alternatives.push(f);
  }
  return or(...alternatives);
}

/**
 * The page pipeline: match, computed sort keys `k0…`, keyset condition on (keys…, rid), sort,
 * limit + 1 (to know whether there is a next page).
 */
export function pagePipeline(plan: SearchPlan, where: Filter, cursorValues?: Key[]): Record<string, unknown>[] {
  const keys = [...plan.sort.map((k, i) => ({ field: `k${i}`, desc: k.descending })), { field: 'rid', desc: false }];
  const stages: Record<string, unknown>[] = [{ $match: where }];
  if (plan.sort.length) stages.push({ $addFields: Object.fromEntries(plan.sort.map((k, i) => [`k${i}`, sortExpression(k)])) });
  if (cursorValues) {
    if (cursorValues.length !== keys.length) throw badRequest('Invalid paging cursor', '_cursor');
    stages.push({ $match: afterCursor(keys, cursorValues) });
  }
  stages.push({ $sort: Object.fromEntries(keys.map((k) => [k.field, k.desc ? -1 : 1])) });
  stages.push({ $limit: plan.count + 1 });
  return stages;
}
