/**
 * Compiles plan predicates into SQL conditions on a resources-table alias
 * (semantics: http://hl7.org/fhir/R4/search.html). Values are always bound, never inlined.
 */
import { badRequest } from '../../fhir/outcome';
import type { InstantRange, ParamPredicate, ParamRef, ParamValue, Predicate, Prefix, QuantityValue } from '../../search/plan';
import { rangeCondition } from '../../search/ranges';
import { toCanonical } from '../../search/ucum';
import { INDEX_TABLE } from './schema';
import { narrowAll } from '../../search/narrow';

/** A predicate that never holds (an empty OR). */
const FALSE: Predicate = { kind: 'or', any: [] };

export interface Sql {
  sql: string;
  args: unknown[];
}

const UCUM = 'http://unitsofmeasure.org';
/** Hands out aliases for one statement, so nested subqueries never capture each other's names. */
export class Aliases {
  private n = 0;
  next(prefix: string): string {
    return `${prefix}${++this.n}`;
  }
}

const qualified = (p: ParamRef): string => `${p.base}.${p.code}`;

/** Escapes LIKE wildcards; used with ESCAPE '\'. */
export function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Stored range [lo, hi) against a search range per prefix (http://hl7.org/fhir/R4/search.html#prefix). */
function dateSql(x: string, prefix: Prefix, r: InstantRange): Sql {
  const within = `(${x}.low >= ? AND ${x}.high <= ?)`;
  switch (prefix) {
    case 'eq':
      return { sql: within, args: [r.low, r.high] };
    case 'ne':
      return { sql: `NOT ${within}`, args: [r.low, r.high] };
    case 'gt':
      return { sql: `${x}.high > ?`, args: [r.high] };
    case 'lt':
      return { sql: `${x}.low < ?`, args: [r.low] };
    case 'ge':
      return { sql: `(${x}.high > ? OR ${within})`, args: [r.high, r.low, r.high] };
    case 'le':
      return { sql: `(${x}.low < ? OR ${within})`, args: [r.low, r.low, r.high] };
    case 'sa':
      return { sql: `${x}.low >= ?`, args: [r.high] };
    case 'eb':
      return { sql: `${x}.high <= ?`, args: [r.low] };
    case 'ap': {
      const c = rangeCondition('ap', r);
      return { sql: `(${x}.high > ? AND ${x}.low < ?)`, args: [c[0]!.value, c[1]!.value] };
    }
  }
}

/** A stored number against a search number with its precision range. */
function numberSql(col: string, v: { prefix: Prefix; value: number; low: number; high: number }): Sql {
  switch (v.prefix) {
    case 'eq':
      return { sql: `(${col} >= ? AND ${col} < ?)`, args: [v.low, v.high] };
    case 'ne':
      return { sql: `(${col} < ? OR ${col} >= ?)`, args: [v.low, v.high] };
    case 'gt':
    case 'sa':
      return { sql: `${col} > ?`, args: [v.value] };
    case 'lt':
    case 'eb':
      return { sql: `${col} < ?`, args: [v.value] };
    case 'ge':
      return { sql: `${col} >= ?`, args: [v.value] };
    case 'le':
      return { sql: `${col} <= ?`, args: [v.value] };
    case 'ap': {
      const slack = Math.abs(v.value) * 0.1;
      return { sql: `(${col} >= ? AND ${col} <= ?)`, args: [v.value - slack, v.value + slack] };
    }
  }
}

function quantitySql(x: string, q: QuantityValue): Sql {
  if (q.code && (q.system === undefined || q.system === UCUM)) {
    const canonical = toCanonical(q.value, q.code);
    if (canonical) {
      const scale = canonical.value / (q.value || 1);
      const scaled = { ...q, value: canonical.value, low: q.value ? q.low * scale : q.low, high: q.value ? q.high * scale : q.high };
      const cmp = numberSql(`${x}.canonical_value`, scaled);
      return { sql: `(${x}.canonical_code = ? AND ${cmp.sql})`, args: [canonical.code, ...cmp.args] };
    }
  }
  const cmp = numberSql(`${x}.value`, q);
  const conds = [cmp.sql];
  const args = [...cmp.args];
  if (q.system) (conds.push(`${x}.system = ?`), args.push(q.system));
  if (q.code) (conds.push(`(${x}.code = ? OR ${x}.unit = ?)`), args.push(q.code, q.code));
  return { sql: `(${conds.join(' AND ')})`, args };
}

function tokenSql(x: string, v: Extract<ParamValue, { type: 'token' }>, sys = 'system', code = 'code'): Sql {
  if (v.text !== undefined) {
    return { sql: `(${x}.text LIKE ? ESCAPE '\\' OR ${x}.text LIKE ? ESCAPE '\\')`, args: [`${likeEscape(v.text)}%`, `% ${likeEscape(v.text)}%`] };
  }
  if (v.ofType) {
    return { sql: `(${x}.type_system IS ? AND ${x}.type_code = ? AND ${x}.${code} = ?)`, args: [v.ofType.system, v.ofType.code, v.ofType.value] };
  }
  if (v.valueSetUrl) {
    if (!v.expansion) throw badRequest(`Value set ${v.valueSetUrl} was not expanded`);
    if (!v.expansion.length) return { sql: '0', args: [] };
    const alts = v.expansion.map((t) => (t.system == null ? `(${x}.${code} = ? AND ${x}.${sys} IS NULL)` : `(${x}.${code} = ? AND ${x}.${sys} = ?)`));
    return { sql: `(${alts.join(' OR ')})`, args: v.expansion.flatMap((t) => (t.system == null ? [t.code] : [t.code, t.system])) };
  }
  const conds: string[] = [];
  const args: unknown[] = [];
  if (v.token.code !== undefined) (conds.push(`${x}.${code} = ?`), args.push(v.token.code));
  if (v.token.system === null) conds.push(`${x}.${sys} IS NULL`);
  else if (v.token.system !== undefined) (conds.push(`${x}.${sys} = ?`), args.push(v.token.system));
  return { sql: `(${conds.join(' AND ')})`, args };
}

function referenceSql(x: string, v: Extract<ParamValue, { type: 'reference' }>): Sql {
  const r = v.ref;
  if (r.identifier) {
    const conds = [`${x}.id_value = ?`];
    const args: unknown[] = [r.identifier.code];
    if (r.identifier.system) (conds.push(`${x}.id_system = ?`), args.push(r.identifier.system));
    return { sql: `(${conds.join(' AND ')})`, args };
  }
  if (r.url) return { sql: `${x}.url = ?`, args: [r.url] };
  if (r.targetType) return { sql: `(${x}.target_id = ? AND ${x}.target_type = ?)`, args: [r.id, r.targetType] };
  return { sql: `${x}.target_id = ?`, args: [r.id] };
}

/** The condition one alternative puts on an index row aliased `x`. */
function valueSql(x: string, p: ParamPredicate, v: ParamValue): Sql {
  switch (v.type) {
    case 'token':
      return tokenSql(x, v);
    case 'string':
      if (p.modifier === 'exact') return { sql: `${x}.raw = ?`, args: [v.value] };
      if (p.modifier === 'contains') return { sql: `${x}.value LIKE ? ESCAPE '\\'`, args: [`%${likeEscape(v.value)}%`] };
      // Starts-with as a range, so the (param, value) index serves it.
      return { sql: `(${x}.value >= ? AND ${x}.value < ?)`, args: [v.value, `${v.value}\uffff`] };
    case 'reference':
      return referenceSql(x, v);
    case 'date':
      return dateSql(x, v.prefix, v.range);
    case 'number':
      return numberSql(`${x}.value`, v.num);
    case 'quantity':
      return quantitySql(x, v.qty);
    case 'uri':
      if (p.modifier === 'below') return { sql: `(${x}.value = ? OR ${x}.value LIKE ? ESCAPE '\\')`, args: [v.value, `${likeEscape(v.value.replace(/\/$/, ''))}/%`] };
      if (p.modifier === 'above') return { sql: `(? = ${x}.value OR ? LIKE (${x}.value || '/%'))`, args: [v.value, v.value] };
      return { sql: `${x}.value = ?`, args: [v.value] };
    case 'composite':
      return compositeSql(x, v);
  }
}

function compositeSql(x: string, v: Extract<ParamValue, { type: 'composite' }>): Sql {
  const [first, second] = v.components;
  if (!first || !second || first.type !== 'token') throw badRequest('Composite searches take a token first component');
  const a = tokenSql(x, first);
  let b: Sql;
  switch (second.type) {
    case 'token':
      b = tokenSql(x, second, 'second_system', 'second_code');
      break;
    case 'quantity': {
      // Same rules as a plain quantity, on the composite's second_* columns.
      const q = quantitySql(x, second.qty);
      b = { sql: q.sql.replace(new RegExp(`${x}\\.(value|system|code|unit|canonical_value|canonical_code)\\b`, 'g'), (_m, c: string) => `${x}.second_${c === 'unit' ? 'code' : c}`), args: q.args };
      break;
    }
    case 'date': {
      const d = dateSql(x, second.prefix, second.range);
      b = { sql: d.sql.replace(new RegExp(`${x}\\.(low|high)`, 'g'), `${x}.second_$1`), args: d.args };
      break;
    }
    case 'string':
      b = { sql: `(${x}.second_text >= ? AND ${x}.second_text < ?)`, args: [second.value, `${second.value}\uffff`] };
      break;
    default:
      throw badRequest('Unsupported composite component');
  }
  return { sql: `(${a.sql} AND ${b.sql})`, args: [...a.args, ...b.args] };
}

/** True when the predicate narrows by a search index (a rid list), which should then drive the query. */
export function drivesByIndex(p: Predicate): boolean {
  if (p.kind === 'param' || p.kind === 'chain' || p.kind === 'has') return p.kind !== 'param' || (p.modifier !== 'not' && p.modifier !== 'not-in');
  if (p.kind === 'or') return p.any.length > 0 && p.any.every(drivesByIndex);
  if (p.kind === 'and') return p.all.some(drivesByIndex);
  return false;
}

/**
 * `alias.type`, with a unary + when an index predicate drives: a constant type equality would
 * otherwise lure SQLite onto the (type, …) indexes and range over every resource of the type.
 */
export function typeTest(alias: string, p: Predicate): string {
  return drivesByIndex(p) ? `+${alias}.type` : `${alias}.type`;
}

/** The condition on index rows (alias `x`) that a parameter predicate's values match, without `:not`. */
export function paramCondition(x: string, p: ParamPredicate): Sql {
  const alts = alternatives(x, p);
  return { sql: `${x}.param = ? AND ${alts.sql}`, args: [qualified(p.param), ...alts.args] };
}

/** The codes a token alternative can match in the `code` column; undefined when it allows any code. */
function tokenCodes(v: Extract<ParamValue, { type: 'token' }>): string[] | undefined {
  if (v.text !== undefined) return undefined;
  if (v.ofType) return [v.ofType.value];
  if (v.valueSetUrl) {
    const codes = v.expansion?.map((t) => t.code);
    return codes?.every((c) => c !== undefined) ? (codes as string[]) : undefined;
  }
  return v.token.code === undefined ? undefined : [v.token.code];
}

/**
 * Every code the alternatives of a token (or token-first composite) predicate can match, when
 * each of them names its codes and together they make an OR; undefined otherwise. The OR itself
 * gives SQLite no column to seek on, so it read every index row of the parameter.
 */
function codeSet(p: ParamPredicate): string[] | undefined {
  const many = p.values.length > 1 || p.values.some((v) => v.type === 'token' && v.valueSetUrl !== undefined);
  if (!many) return undefined;
  const codes = new Set<string>();
  for (const v of p.values) {
    const first = v.type === 'composite' ? v.components[0] : v;
    const some = first?.type === 'token' ? tokenCodes(first) : undefined;
    if (!some) return undefined;
    for (const c of some) codes.add(c);
  }
  return codes.size ? [...codes] : undefined;
}

/**
 * `(value1 OR value2 …)` on index rows aliased `x`, without the parameter test. When every
 * alternative names its codes (a code in this system or none, a value-set expansion, `a,b`), a
 * redundant `x.code IN (…)` goes first, so the (param, code, system, rid) index is probed by code.
 */
export function alternatives(x: string, p: ParamPredicate): Sql {
  const alts = p.values.map((v) => valueSql(x, p, v));
  const any = { sql: `(${alts.map((a) => a.sql).join(' OR ')})`, args: alts.flatMap((a) => a.args) };
  const codes = codeSet(p);
  if (!codes) return any;
  const seek = codes.length === 1 ? `${x}.code = ?` : `${x}.code IN (${codes.map(() => '?').join(', ')})`;
  return { sql: `${seek} AND ${any.sql}`, args: [...codes, ...any.args] };
}

/**
 * How a predicate tests its resource. `list`: parameter tests and `_has` are rid/(type, id) lists
 * built once per statement, so they can drive the query (matches, chain and `_has` levels).
 * `probe`: the resource is already in hand (a visibility test, which is an OR and never drives),
 * so each test seeks that resource's own index rows: its cost follows the candidates instead of
 * every row the organisation can see (a referral receiver's `_has:Task` list was 10,000 Tasks
 * per search at 1M resources, bench/results/search-latest.md).
 */
export type Mode = 'list' | 'probe';

/** Whether a predicate compiles differently by Mode (it tests a parameter or `_has` somewhere). */
export function modeMatters(p: Predicate): boolean {
  if (p.kind === 'param' || p.kind === 'has') return true;
  if (p.kind === 'and') return p.all.some(modeMatters);
  if (p.kind === 'or') return p.any.some(modeMatters);
  return p.kind === 'not' && modeMatters(p.inner);
}

/**
 * Compiles a predicate on resources alias `r`. `visibility` is applied to every other resource a
 * predicate reaches (chain targets, `_has` sources), so invisible data cannot be probed.
 */
export function predicateSql(r: string, p: Predicate, visibility: Predicate[], names: Aliases, mode: Mode = 'list'): Sql {
  switch (p.kind) {
    case 'id': {
      const marks = p.ids.map(() => '?').join(', ');
      return { sql: `${r}.id ${p.not ? 'NOT IN' : 'IN'} (${marks})`, args: p.ids };
    }
    case 'lastUpdated': {
      const cond = rangeCondition(p.prefix, p.range);
      const joiner = cond[0]?.or ? ' OR ' : ' AND ';
      return { sql: `(${cond.map((c) => `${r}.last_updated ${c.op} ?`).join(joiner)})`, args: cond.map((c) => c.value) };
    }
    case 'custodian':
      return { sql: `${r}.custodian IN (SELECT value FROM json_each(?))`, args: [JSON.stringify(p.custodians)] };
    case 'or': {
      const parts = p.any.map((q) => predicateSql(r, q, visibility, names, mode));
      return { sql: `(${parts.map((s) => s.sql).join(' OR ') || '0'})`, args: parts.flatMap((s) => s.args) };
    }
    case 'and': {
      const parts = p.all.map((q) => predicateSql(r, q, visibility, names, mode));
      return { sql: `(${parts.map((s) => s.sql).join(' AND ') || '1'})`, args: parts.flatMap((s) => s.args) };
    }
    case 'type':
      return { sql: `${r}.type IN (SELECT value FROM json_each(?))`, args: [JSON.stringify(p.types)] };
    case 'enrolled':
      return {
        // Correlated, so it costs one primary-key probe per candidate instead of listing every
        // client of the organisation.
        // `+`: a constant equality on type would lure SQLite onto the type index and range over every client.
        sql: `(+${r}.type = 'Patient' AND EXISTS (SELECT 1 FROM enrolments e WHERE e.patient_id = ${r}.id AND e.org IN (SELECT value FROM json_each(?))))`,
        args: [JSON.stringify(p.orgs)],
      };
    case 'patient':
      return { sql: `${r}.patient IN (SELECT value FROM json_each(?))`, args: [JSON.stringify(p.patients)] };
    case 'not': {
      const inner = predicateSql(r, p.inner, visibility, names, mode);
      // Two-valued: a custody or client test on a resource without one is false, so its negation
      // is true (plain SQL NOT would leave it unknown and drop e.g. every Organization).
      return { sql: `NOT IFNULL((${inner.sql}), 0)`, args: inner.args };
    }
    case 'missing': {
      const x = names.next('m');
      return {
        sql: `${p.missing ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${INDEX_TABLE[p.param.type]} ${x} WHERE ${x}.rid = ${r}.rid AND ${x}.param = ?)`,
        args: [qualified(p.param)],
      };
    }
    case 'param': {
      const x = names.next('i');
      const cond = paramCondition(x, p);
      const negated = p.modifier === 'not' || p.modifier === 'not-in';
      const table = INDEX_TABLE[p.param.type]!;
      if (mode === 'probe') {
        // INDEXED BY: without statistics SQLite prefers a covering (param, …) index seeking on
        // the parameter alone, i.e. every row of it per probe, over (rid, param).
        return { sql: `${negated ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${table} ${x} INDEXED BY ${table}_rid WHERE ${x}.rid = ${r}.rid AND ${cond.sql})`, args: cond.args };
      }
      return { sql: `${r}.rid ${negated ? 'NOT IN' : 'IN'} (SELECT ${x}.rid FROM ${table} ${x} WHERE ${cond.sql})`, args: cond.args };
    }
    case 'chain': {
      // Inside-out: the matching targets first, then the references to them, so each level is a
      // probe of idx_ref (param, target_id, target_type, rid) instead of a join over every
      // reference the parameter has (bench/results/search-latest.md, "chain"). No visibility
      // rule is a chain, so there is no probe form.
      const x = names.next('c');
      const t = names.next('t');
      const inner = predicateSql(t, p.inner, visibility, names);
      const vis = visibilitySql(t, narrowAll(visibility, [p.targetType]) || [FALSE], names);
      return {
        sql: `${r}.rid IN (SELECT ${x}.rid FROM idx_ref ${x} WHERE ${x}.param = ? AND ${x}.target_type = ? AND ${x}.target_id IN (SELECT ${t}.id FROM resources ${t}
          WHERE ${typeTest(t, p.inner)} = ? AND ${t}.deleted = 0 AND ${inner.sql}${vis.sql}))`,
        args: [qualified(p.param), p.targetType, p.targetType, ...inner.args, ...vis.args],
      };
    }
    case 'has':
      return mode === 'probe' ? hasProbeSql(r, p, visibility, names) : hasListSql(r, p, visibility, names);
  }
}

/**
 * `_has` inside-out: the matching sources, then what their references point at, looked up by
 * (type, id) — no per-row correlation with the outer resource. This reads the parameter's
 * covering (param, target_id, target_type, rid) index in order and keeps the rows whose source
 * matched: at 1M resources that beat driving from the sources through idx_ref_rid (rid, param)
 * by 1.4–1.9× for sources from 10 % to 50 % of the parameter's rows (random row reads for
 * target_type/target_id). A `_has` on few candidates is the probe form's case, not this one.
 */
function hasListSql(r: string, p: Extract<Predicate, { kind: 'has' }>, visibility: Predicate[], names: Aliases): Sql {
  const x = names.next('h');
  const s = names.next('s');
  const inner = predicateSql(s, p.inner, visibility, names);
  const vis = visibilitySql(s, narrowAll(visibility, [p.sourceType]) || [FALSE], names);
  return {
    sql: `(${r}.type, ${r}.id) IN (SELECT ${x}.target_type, ${x}.target_id FROM idx_ref ${x} WHERE ${x}.param = ? AND ${x}.rid IN (SELECT ${s}.rid FROM resources ${s}
      WHERE ${typeTest(s, p.inner)} = ? AND ${s}.deleted = 0 AND ${inner.sql}${vis.sql}))`,
    args: [qualified(p.param), p.sourceType, ...inner.args, ...vis.args],
  };
}

/**
 * `_has` for a resource in hand: the sources referring to it, by a seek of idx_ref (param,
 * target_id, target_type), each tested with probes. One candidate costs its few referring sources.
 */
function hasProbeSql(r: string, p: Extract<Predicate, { kind: 'has' }>, visibility: Predicate[], names: Aliases): Sql {
  const x = names.next('h');
  const s = names.next('s');
  const inner = predicateSql(s, p.inner, visibility, names, 'probe');
  const vis = visibilitySql(s, narrowAll(visibility, [p.sourceType]) || [FALSE], names);
  return {
    sql: `EXISTS (SELECT 1 FROM idx_ref ${x} CROSS JOIN resources ${s} ON ${s}.rid = ${x}.rid
      WHERE ${x}.param = ? AND ${x}.target_id = ${r}.id AND ${x}.target_type = ${r}.type AND +${s}.type = ? AND ${s}.deleted = 0 AND ${inner.sql}${vis.sql})`,
    args: [qualified(p.param), p.sourceType, ...inner.args, ...vis.args],
  };
}

/**
 * ` AND …` for each visibility predicate on alias `r` (empty when there are none). Visibility is
 * an OR on a resource already found (never the driver), so it probes, unless the caller expects
 * so many candidates that one list per statement costs less (SqliteSearch.visibilityMode).
 */
export function visibilitySql(r: string, visibility: Predicate[], names: Aliases, mode: Mode = 'probe'): Sql {
  if (!visibility.length) return { sql: '', args: [] };
  const parts = visibility.map((v) => predicateSql(r, v, [], names, mode));
  return { sql: parts.map((p) => ` AND ${p.sql}`).join(''), args: parts.flatMap((p) => p.args) };
}
