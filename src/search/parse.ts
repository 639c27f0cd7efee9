/**
 * Parses a search query string into a SearchPlan (http://hl7.org/fhir/R4/search.html).
 * Unknown parameters are reported, not silently dropped: strict handling rejects them.
 */
import type { QueryPairs } from '../fhir/context';
import { badRequest } from '../fhir/outcome';
import type { Predicate, Prefix, SearchPlan, SortKey, TotalMode } from './plan';
import { parseDateRange } from './ranges';

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

const PREFIXES: readonly Prefix[] = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

/** Parameters that shape the response, not the match; handled by the presentation layer. */
const RESULT_PARAMS = new Set(['_summary', '_elements', '_format', '_pretty']);


export interface ParsedSearch {
  plan: SearchPlan;
  /** Pairs that took part in the search, for Bundle.link[self]. */
  used: QueryPairs;
  /** Names of parameters ignored under lenient handling. */
  ignored: string[];
}

/** Splits `gt2024-01-01` into prefix and value; a bare value means `eq`. */
export function splitPrefix(value: string): { prefix: Prefix; rest: string } {
  const p = value.slice(0, 2) as Prefix;
  if (PREFIXES.includes(p) && /^[a-z]{2}[-+\d]/.test(value)) return { prefix: p, rest: value.slice(2) };
  return { prefix: 'eq', rest: value };
}

/** Splits a parameter value on unescaped commas (http://hl7.org/fhir/R4/search.html#escaping). */
export function splitOr(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) {
      cur += value[++i];
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function parseCount(raw: string): number {
  if (!/^\d{1,7}$/.test(raw)) throw badRequest(`_count must be a non-negative whole number, got "${raw}"`, '_count');
  return Math.min(Number(raw), MAX_COUNT);
}

function parseSort(raw: string): SortKey[] {
  return raw.split(',').map((k) => {
    const descending = k.startsWith('-');
    const param = descending ? k.slice(1) : k;
    if (param !== '_id' && param !== '_lastUpdated') throw badRequest(`Cannot sort by "${param}"`, '_sort');
    return { param, descending };
  });
}

function parseLastUpdated(raw: string): Predicate[] {
  const alternatives = splitOr(raw);
  if (alternatives.length > 1) throw badRequest('_lastUpdated does not take comma-separated alternatives', '_lastUpdated');
  const { prefix, rest } = splitPrefix(raw);
  const range = parseDateRange(rest);
  if (!range) throw badRequest(`_lastUpdated needs a FHIR date or dateTime, got "${raw}"`, '_lastUpdated');
  return [{ kind: 'lastUpdated', prefix, range }];
}

/**
 * Builds a plan for `types` from the query. `strict` follows `Prefer: handling=strict`;
 * `conditional` (conditional create/update/delete) never ignores a parameter, since doing so
 * would widen the match.
 */
export function parseSearch(types: string[], query: QueryPairs, opts: { strict?: boolean; conditional?: boolean } = {}): ParsedSearch {
  const plan: SearchPlan = { types, where: [], sort: [], count: DEFAULT_COUNT, total: 'accurate' };
  const used: QueryPairs = [];
  const ignored: string[] = [];
  for (const [name, value] of query) {
    const bare = name.split(':')[0]!;
    const modifier = name.includes(':') ? name.slice(name.indexOf(':') + 1) : undefined;
    let known = true;
    switch (bare) {
      case '_id': {
        if (modifier && modifier !== 'not') throw badRequest(`Modifier :${modifier} is not valid on _id`, name);
        const ids = splitOr(value).filter(Boolean);
        if (!ids.length) throw badRequest('_id needs a value', name);
        plan.where.push({ kind: 'id', ids, not: modifier === 'not' });
        break;
      }
      case '_lastUpdated':
        if (modifier) throw badRequest(`Modifier :${modifier} is not valid on _lastUpdated`, name);
        plan.where.push(...parseLastUpdated(value));
        break;
      case '_count':
        plan.count = parseCount(value);
        break;
      case '_sort':
        plan.sort = parseSort(value);
        break;
      case '_total':
        if (!['none', 'estimate', 'accurate'].includes(value)) throw badRequest('_total must be none, estimate or accurate', '_total');
        plan.total = value as TotalMode;
        break;
      case '_cursor':
        plan.cursor = value;
        continue; // never part of the self link
      case '_summary':
        if (value === 'count') plan.countOnly = true;
        break;
      default:
        known = RESULT_PARAMS.has(bare);
    }
    if (known) {
      used.push([name, value]);
      continue;
    }
    if (opts.strict || opts.conditional) {
      throw badRequest(`Unknown or unsupported search parameter "${name}"`, name);
    }
    ignored.push(name);
  }
  return { plan, used, ignored };
}

/** Search parameters every type supports in this release (declared in the CapabilityStatement). */
export const COMMON_SEARCH_PARAMS: { name: string; type: 'token' | 'date' | 'number'; documentation: string }[] = [
  { name: '_id', type: 'token', documentation: 'Logical id; comma-separated alternatives; :not' },
  { name: '_lastUpdated', type: 'date', documentation: 'When the current version was written; prefixes eq ne gt lt ge le sa eb ap' },
];
