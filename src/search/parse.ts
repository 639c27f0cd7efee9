/**
 * Parses a search query string into a SearchPlan (http://hl7.org/fhir/R4/search.html), against
 * the parameter registry. Unknown parameters are reported, never silently widened into matches:
 * strict handling and conditional interactions reject them.
 */
import { AUDIT_LOG, apart, assertAuditSearchable } from './audit-rules';
import type { QueryPairs } from '../fhir/context';
import { badRequest } from '../fhir/outcome';
import { isSupportedType } from '../fhir/resource-types';
import type { IncludeSpec, Modifier, Predicate, SearchPlan, SortKey, TotalMode } from './plan';
import { parseDateRange } from './ranges';
import type { ParamDef, SearchRegistry } from './registry';
import { parseValue, splitOr, splitPrefix } from './parse-values';

export { splitOr, splitPrefix } from './parse-values';

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;
/** Deepest chain or `_has` nesting accepted; deeper ones are refused as too costly. */
export const MAX_CHAIN_DEPTH = 3;

/** Parameters that shape the response, not the match; handled by the presentation layer. */
const RESULT_PARAMS = new Set(['_summary', '_elements', '_format', '_pretty']);

const MODIFIERS: readonly Modifier[] = ['missing', 'exact', 'contains', 'text', 'not', 'in', 'not-in', 'below', 'above', 'of-type', 'identifier'];

/** Which modifiers each parameter type accepts here. */
const ALLOWED: Record<string, readonly Modifier[]> = {
  token: ['missing', 'text', 'not', 'in', 'not-in', 'of-type'],
  string: ['missing', 'exact', 'contains'],
  reference: ['missing', 'identifier', 'type'],
  date: ['missing'],
  number: ['missing'],
  quantity: ['missing'],
  uri: ['missing', 'below', 'above'],
  composite: ['missing'],
};

export interface ParseOptions {
  strict?: boolean;
  /** Conditional create/update/delete: never ignore a parameter. */
  conditional?: boolean;
  baseUrl?: string;
}

export interface ParsedSearch {
  plan: SearchPlan;
  /** Pairs that took part in the search, for Bundle.link[self]. */
  used: QueryPairs;
  /** Names of parameters ignored under lenient handling. */
  ignored: string[];
}

/** Thrown for a parameter this server does not know; lenient handling catches and reports it. */
class UnknownParameter extends Error {}

function parseCount(raw: string): number {
  if (!/^\d{1,7}$/.test(raw)) throw badRequest(`_count must be a non-negative whole number, got "${raw}"`, '_count');
  return Math.min(Number(raw), MAX_COUNT);
}

/** Parses `name[:modifier]=value` on `type` into one predicate (recursing for chains and _has). */
function predicateFor(registry: SearchRegistry, type: string, name: string, value: string, baseUrl: string, depth: number): Predicate {
  if (depth > MAX_CHAIN_DEPTH) throw badRequest(`Chains and _has may nest at most ${MAX_CHAIN_DEPTH} levels`, name);
  if (name.startsWith('_has:')) return hasPredicate(registry, type, name, value, baseUrl, depth);
  const dot = name.indexOf('.');
  if (dot > 0) return chainPredicate(registry, type, name, dot, value, baseUrl, depth);

  const [code, mod] = name.split(':', 2) as [string, string | undefined];
  if (code === '_id') {
    if (mod && mod !== 'not' && mod !== 'missing') throw badRequest(`Modifier :${mod} is not valid on _id`, name);
    const ids = splitOr(value).filter(Boolean);
    if (!ids.length) throw badRequest('_id needs a value', name);
    return { kind: 'id', ids, not: mod === 'not' };
  }
  if (code === '_lastUpdated') {
    if (mod) throw badRequest(`Modifier :${mod} is not valid on _lastUpdated`, name);
    const alternatives = splitOr(value).map((v): Predicate => {
      const { prefix, rest } = splitPrefix(v);
      const range = parseDateRange(rest);
      if (!range) throw badRequest(`_lastUpdated needs a FHIR date or dateTime, got "${v}"`, name);
      return { kind: 'lastUpdated', prefix, range };
    });
    return alternatives.length === 1 ? alternatives[0]! : { kind: 'or', any: alternatives };
  }
  const def = registry.get(type, code);
  if (!def) throw new UnknownParameter(name);
  let modifier: Modifier | undefined;
  let typeModifier: string | undefined;
  if (mod !== undefined) {
    if (def.type === 'reference' && isSupportedType(mod)) typeModifier = mod;
    else if (MODIFIERS.includes(mod as Modifier) && ALLOWED[def.type]?.includes(mod as Modifier)) modifier = mod as Modifier;
    else throw badRequest(`Modifier :${mod} is not supported on ${def.type} parameter ${code}`, name);
  }
  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') throw badRequest(':missing takes true or false', name);
    return { kind: 'missing', param: ref(def), missing: value === 'true' };
  }
  const values = splitOr(value).map((v) => parseValue(def, name, v, modifier, typeModifier, baseUrl));
  return { kind: 'param', param: ref(def), ...(modifier ? { modifier } : {}), values };
}

function ref(def: ParamDef) {
  return { base: def.base, code: def.code, type: def.type };
}

/** `subject:Patient.identifier=x` or `subject.identifier=x` (every target type that has the inner parameter). */
function chainPredicate(registry: SearchRegistry, type: string, name: string, dot: number, value: string, baseUrl: string, depth: number): Predicate {
  const [code, typeMod] = name.slice(0, dot).split(':', 2) as [string, string | undefined];
  const rest = name.slice(dot + 1);
  const def = registry.get(type, code);
  if (!def) throw new UnknownParameter(name);
  if (def.type !== 'reference') throw badRequest(`${code} is not a reference parameter, so it cannot be chained`, name);
  if (type === AUDIT_LOG || typeMod === AUDIT_LOG) throw apart(name);
  const candidates = typeMod ? [typeMod] : def.targets.filter((t) => isSupportedType(t) && t !== AUDIT_LOG);
  if (typeMod && (!isSupportedType(typeMod) || (def.targets.length && !def.targets.includes(typeMod)))) {
    throw badRequest(`${code} cannot point at ${typeMod}`, name);
  }
  const innerCode = rest.split(/[.:]/, 1)[0]!;
  const targets = candidates.filter((t) => innerCode.startsWith('_has') || innerCode === '_id' || innerCode === '_lastUpdated' || registry.get(t, innerCode));
  if (!targets.length) throw new UnknownParameter(name);
  const chains = targets.map((targetType): Predicate => ({
    kind: 'chain',
    param: ref(def),
    targetType,
    inner: predicateFor(registry, targetType, rest, value, baseUrl, depth + 1),
  }));
  return chains.length === 1 ? chains[0]! : { kind: 'or', any: chains };
}

/** `_has:Observation:patient:code=1234` (http://hl7.org/fhir/R4/search.html#has). */
function hasPredicate(registry: SearchRegistry, type: string, name: string, value: string, baseUrl: string, depth: number): Predicate {
  const parts = name.split(':');
  const [, sourceType, code] = parts;
  const inner = parts.slice(3).join(':');
  if (!sourceType || !code || !inner) throw badRequest('_has takes _has:Type:reference-param:param', name);
  if (!isSupportedType(sourceType)) throw badRequest(`Unknown resource type ${sourceType} in _has`, name);
  if (type === AUDIT_LOG || sourceType === AUDIT_LOG) throw apart(name);
  const def = registry.get(sourceType, code);
  if (!def || def.type !== 'reference') throw badRequest(`${sourceType} has no reference parameter ${code}`, name);
  if (def.targets.length && !def.targets.includes(type)) throw badRequest(`${sourceType}.${code} cannot point at ${type}`, name);
  return { kind: 'has', sourceType, param: ref(def), inner: predicateFor(registry, sourceType, inner, value, baseUrl, depth + 1) };
}

function parseSort(registry: SearchRegistry, types: string[], raw: string): SortKey[] {
  return raw.split(',').map((k): SortKey => {
    const descending = k.startsWith('-');
    const code = descending ? k.slice(1) : k;
    if (code === '_id' || code === '_lastUpdated') return { param: code, descending };
    const def = types.length === 1 ? registry.get(types[0]!, code) : undefined;
    if (!def || def.type === 'composite') throw badRequest(`Cannot sort by "${code}"`, '_sort');
    return { param: ref(def), descending };
  });
}

function parseInclude(registry: SearchRegistry, name: string, raw: string): IncludeSpec {
  const iterate = name.endsWith(':iterate') || name.endsWith(':recurse');
  if (raw === '*') return { sourceType: '*', iterate };
  const [sourceType, code, targetType] = raw.split(':');
  if (!sourceType || !isSupportedType(sourceType)) throw badRequest(`${name} needs Type:param[:target], got "${raw}"`, name);
  if (sourceType === AUDIT_LOG || targetType === AUDIT_LOG) throw apart(name);
  if (code === '*' || code === undefined) return { sourceType, iterate };
  const def = registry.get(sourceType, code);
  if (!def || def.type !== 'reference') throw badRequest(`${sourceType} has no reference parameter ${code}`, name);
  if (targetType !== undefined && !isSupportedType(targetType)) throw badRequest(`Unknown target type ${targetType}`, name);
  return { sourceType, param: ref(def), ...(targetType ? { targetType } : {}), iterate };
}

/** Most query parameters one search may carry. */
export const MAX_QUERY_PARAMETERS = 100;
/** Most comma-separated alternatives one parameter may list. */
export const MAX_OR_VALUES = 200;

/**
 * Builds a plan for `types` from the query. `strict` follows `Prefer: handling=strict`.
 */
export function parseSearch(registry: SearchRegistry, types: string[], query: QueryPairs, opts: ParseOptions = {}): ParsedSearch {
  // Bounds on what one search may ask: each condition becomes a branch of one SQL expression, and
  // SQLite refuses expressions nested ~1,000 deep (a 500 otherwise). Found by tests/reliability.
  if (query.length > MAX_QUERY_PARAMETERS) throw badRequest(`A search may have at most ${MAX_QUERY_PARAMETERS} parameters; this one has ${query.length}`);
  for (const [name, value] of query) {
    if (splitOr(value).length > MAX_OR_VALUES) throw badRequest(`A search parameter may list at most ${MAX_OR_VALUES} alternatives`, name);
  }
  if (types.length > 1 && types.includes(AUDIT_LOG)) throw apart('_type');
  const plan: SearchPlan = { types, where: [], sort: [], count: DEFAULT_COUNT, total: 'estimate' };
  const used: QueryPairs = [];
  const ignored: string[] = [];
  const baseUrl = opts.baseUrl ?? '';
  for (const [name, value] of query) {
    const bare = name.split(':')[0]!;
    try {
      switch (bare) {
        case '_count':
          plan.count = parseCount(value);
          break;
        case '_sort':
          plan.sort = parseSort(registry, types, value);
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
        case '_include':
        case '_revinclude':
          // Even `*` or another source type: a search of AuditEvents includes nothing.
          if (types.includes(AUDIT_LOG)) throw apart(name);
          (bare === '_include' ? (plan.include ??= []) : (plan.revinclude ??= [])).push(parseInclude(registry, name, value));
          break;
        case '_type':
          break; // system search reads it before calling the parser
        default:
          if (RESULT_PARAMS.has(bare)) break;
          if (types.length !== 1 && !['_id', '_lastUpdated'].includes(bare) && !types.every((t) => registry.get(t, bare))) {
            throw new UnknownParameter(name);
          }
          plan.where.push(types.length === 1 ? predicateFor(registry, types[0]!, name, value, baseUrl, 0) : multiType(registry, types, name, value, baseUrl));
      }
      used.push([name, value]);
    } catch (err) {
      if (!(err instanceof UnknownParameter)) throw err;
      if (opts.strict || opts.conditional) throw badRequest(`Unknown or unsupported search parameter "${name}"`, name);
      ignored.push(name);
    }
  }
  assertAuditSearchable(plan);
  return { plan, used, ignored };
}

/** A parameter on a system search across several types: it must exist on each; OR of per-type predicates. */
function multiType(registry: SearchRegistry, types: string[], name: string, value: string, baseUrl: string): Predicate {
  if (name.startsWith('_id') || name.startsWith('_lastUpdated')) return predicateFor(registry, types[0]!, name, value, baseUrl, 0);
  return { kind: 'or', any: types.map((t) => predicateFor(registry, t, name, value, baseUrl, 0)) };
}

/** Search parameters every type supports (declared in the CapabilityStatement too). */
export const COMMON_SEARCH_PARAMS = ['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source'];
