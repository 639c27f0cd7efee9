/**
 * Conditions one search value puts on one index element (inside `$elemMatch`), mirroring
 * src/store/sqlite/predicate-sql.ts exactly (http://hl7.org/fhir/R4/search.html). Pure.
 */
import { badRequest } from '../../fhir/outcome';
import type { InstantRange, ParamPredicate, ParamValue, Prefix, QuantityValue } from '../../search/plan';
import { rangeCondition } from '../../search/ranges';
import { UCUM_SYSTEM, toCanonical } from '../../search/ucum';

/** A MongoDB query document. */
export type Filter = Record<string, unknown>;

/** Matches everything. */
export const TRUE: Filter = {};
/** Matches nothing (an empty `$in`; `$or: []` is refused by MongoDB). */
export const FALSE: Filter = { _id: { $in: [] } };

const isTrue = (f: Filter) => Object.keys(f).length === 0;
const isFalse = (f: Filter) => f === FALSE;

/** Conjunction, dropping trivially true parts. */
export function and(...fs: Filter[]): Filter {
  const parts = fs.filter((f) => !isTrue(f));
  if (parts.some(isFalse)) return FALSE;
  return parts.length === 0 ? TRUE : parts.length === 1 ? parts[0]! : { $and: parts };
}

/** Disjunction; empty is FALSE. */
export function or(...fs: Filter[]): Filter {
  const parts = fs.filter((f) => !isFalse(f));
  if (parts.some(isTrue)) return TRUE;
  return parts.length === 0 ? FALSE : parts.length === 1 ? parts[0]! : { $or: parts };
}

/** Negation of a filter. */
export function not(f: Filter): Filter {
  if (isTrue(f)) return FALSE;
  if (isFalse(f)) return TRUE;
  return { $nor: [f] };
}

/** Escapes a literal for use in a regular expression. */
export function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Stored range [lo, hi) against a search range per prefix (http://hl7.org/fhir/R4/search.html#prefix). */
export function dateFilter(prefix: Prefix, r: InstantRange, lo = 'lo', hi = 'hi'): Filter {
  const within = { [lo]: { $gte: r.low }, [hi]: { $lte: r.high } };
  switch (prefix) {
    case 'eq':
      return within;
    case 'ne':
      return not(within);
    case 'gt':
      return { [hi]: { $gt: r.high } };
    case 'lt':
      return { [lo]: { $lt: r.low } };
    case 'ge':
      return or({ [hi]: { $gt: r.high } }, within);
    case 'le':
      return or({ [lo]: { $lt: r.low } }, within);
    case 'sa':
      return { [lo]: { $gte: r.high } };
    case 'eb':
      return { [hi]: { $lte: r.low } };
    case 'ap': {
      const c = rangeCondition('ap', r);
      return { [hi]: { $gt: c[0]!.value }, [lo]: { $lt: c[1]!.value } };
    }
  }
}

/** A stored number against a search number with its precision range. */
export function numberFilter(field: string, v: { prefix: Prefix; value: number; low: number; high: number }): Filter {
  switch (v.prefix) {
    case 'eq':
      return { [field]: { $gte: v.low, $lt: v.high } };
    case 'ne':
      return or({ [field]: { $lt: v.low } }, { [field]: { $gte: v.high } });
    case 'gt':
    case 'sa':
      return { [field]: { $gt: v.value } };
    case 'lt':
    case 'eb':
      return { [field]: { $lt: v.value } };
    case 'ge':
      return { [field]: { $gte: v.value } };
    case 'le':
      return { [field]: { $lte: v.value } };
    case 'ap': {
      const slack = Math.abs(v.value) * 0.1;
      return { [field]: { $gte: v.value - slack, $lte: v.value + slack } };
    }
  }
}

/** Field names of a quantity on an index element (plain, or a composite's second component). */
interface QuantityFields {
  value: string;
  system: string;
  code: string;
  unit: string;
  cv: string;
  cc: string;
}
const QTY: QuantityFields = { value: 'v', system: 's', code: 'c', unit: 'u', cv: 'cv', cc: 'cc' };
// As in the SQL translator, the composite's unit is its code column.
const QTY2: QuantityFields = { value: 'v2', system: 's2', code: 'c2', unit: 'c2', cv: 'cv2', cc: 'cc2' };

/** Quantity: through the canonical UCUM unit when convertible, else as written. */
export function quantityFilter(q: QuantityValue, f: QuantityFields = QTY): Filter {
  if (q.code && (q.system === undefined || q.system === UCUM_SYSTEM)) {
    const canonical = toCanonical(q.value, q.code);
    if (canonical) {
      const scale = canonical.value / (q.value || 1);
      const scaled = { ...q, value: canonical.value, low: q.value ? q.low * scale : q.low, high: q.value ? q.high * scale : q.high };
      return and({ [f.cc]: canonical.code }, numberFilter(f.cv, scaled));
    }
  }
  const parts = [numberFilter(f.value, q)];
  if (q.system) parts.push({ [f.system]: q.system });
  if (q.code) parts.push(or({ [f.code]: q.code }, { [f.unit]: q.code }));
  return and(...parts);
}

type TokenParam = Extract<ParamValue, { type: 'token' }>;

/** Token value: `:text`, `:of-type`, `:in`/`:not-in` expansions, or system|code. */
export function tokenFilter(v: TokenParam, sys = 's', code = 'c'): Filter {
  if (v.text !== undefined) return { x: { $regex: `(^| )${regexEscape(v.text)}` } };
  if (v.ofType) return { ts: v.ofType.system ?? null, tc: v.ofType.code, [code]: v.ofType.value };
  if (v.valueSetUrl) {
    if (!v.expansion) throw badRequest(`Value set ${v.valueSetUrl} was not expanded`);
    return or(...v.expansion.map((t) => ({ [code]: t.code, [sys]: t.system ?? null })));
  }
  const f: Filter = {};
  if (v.token.code !== undefined) f[code] = v.token.code;
  if (v.token.system === null) f[sys] = null;
  else if (v.token.system !== undefined) f[sys] = v.token.system;
  return f;
}

function referenceFilter(v: Extract<ParamValue, { type: 'reference' }>): Filter {
  const r = v.ref;
  if (r.identifier) return { iv: r.identifier.code, ...(r.identifier.system ? { is: r.identifier.system } : {}) };
  if (r.url) return { u: r.url };
  if (r.targetType) return { i: r.id, t: r.targetType };
  return { i: r.id };
}

/** `:above`: stored values that equal the search value or are a `/`-delimited prefix of it. */
function aboveValues(value: string): string[] {
  const out = [value];
  for (let i = 0; i < value.length; i++) if (value[i] === '/') out.push(value.slice(0, i));
  return out;
}

function compositeFilter(v: Extract<ParamValue, { type: 'composite' }>): Filter {
  const [first, second] = v.components;
  if (!first || !second || first.type !== 'token') throw badRequest('Composite searches take a token first component');
  let b: Filter;
  switch (second.type) {
    case 'token':
      b = tokenFilter(second, 's2', 'c2');
      break;
    case 'quantity':
      b = quantityFilter(second.qty, QTY2);
      break;
    case 'date':
      b = dateFilter(second.prefix, second.range, 'lo2', 'hi2');
      break;
    case 'string':
      b = { x2: { $gte: second.value, $lt: `${second.value}\uffff` } };
      break;
    default:
      throw badRequest('Unsupported composite component');
  }
  return and(tokenFilter(first), b);
}

/** The condition one alternative puts on an index element. */
export function valueFilter(p: ParamPredicate, v: ParamValue): Filter {
  switch (v.type) {
    case 'token':
      return tokenFilter(v);
    case 'string':
      if (p.modifier === 'exact') return { r: v.value };
      if (p.modifier === 'contains') return { v: { $regex: regexEscape(v.value) } };
      // Starts-with as a range, so the (p, v) index serves it.
      return { v: { $gte: v.value, $lt: `${v.value}\uffff` } };
    case 'reference':
      return referenceFilter(v);
    case 'date':
      return dateFilter(v.prefix, v.range);
    case 'number':
      return numberFilter('v', v.num);
    case 'quantity':
      return quantityFilter(v.qty);
    case 'uri':
      if (p.modifier === 'below') return or({ v: v.value }, { v: { $regex: `^${regexEscape(v.value.replace(/\/$/, ''))}/` } });
      if (p.modifier === 'above') return { v: { $in: aboveValues(v.value) } };
      return { v: v.value };
    case 'composite':
      return compositeFilter(v);
  }
}
