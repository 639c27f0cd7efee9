/**
 * Runs a SearchPlan on the embedded store. Paging is keyset-based on (sort keys…, rid), so
 * inserts between pages neither skip nor repeat rows; totals use the same WHERE as the page.
 */
import { storedInstant } from '../versioning';
import type Database from 'better-sqlite3';
import type { InstantRange, ParamPredicate, Predicate, Prefix, SearchPlan, SortKey } from '../../search/plan';
import type { SearchResult } from '../port';
import { badRequest } from '../../fhir/outcome';
import { decodeCursor, encodeCursor } from '../cursor';
import { type VersionRow, rowToVersion } from './rows';
import { Aliases, type Mode, type Sql, alternatives, drivesByIndex, modeMatters, paramCondition, predicateSql, visibilitySql } from './predicate-sql';
import { INDEX_TABLE } from './schema';
import type { Statements } from './statements';
import { narrowAll } from '../../search/narrow';
import { loadIncludes } from './include-sql';

type Key = string | number | null;
type PageRow = VersionRow & { rid: number; [k: `k${number}`]: Key };

const SAFE_PARAM = /^[A-Za-z]+\.[A-Za-z0-9_-]+$/;

/** What the store knows of every range it ever stored for one date parameter (table param_span). */
export interface DateSpan {
  /** Longest and shortest (high − low) in ms. */
  maxMs: number;
  minMs: number;
  /** Most index rows one resource has had for the parameter. */
  maxRows: number;
}

/**
 * Inclusive bounds on a stored `low` implied by one prefix (see dateSql): with every stored range
 * of the parameter lasting between minMs and maxMs, `high > A` gives `low > A − maxMs` and
 * `high <= A` gives `low <= A − minMs`. Undefined = unbounded on that side.
 */
function lowBounds(prefix: Prefix, r: InstantRange, span: DateSpan): { lo?: number; hi?: number } {
  const a = Date.parse(r.low);
  const b = Date.parse(r.high);
  switch (prefix) {
    case 'eq':
      return { lo: a, hi: b - span.minMs };
    case 'gt':
      return { lo: b - span.maxMs };
    case 'lt':
      return { hi: a };
    case 'ge':
      return { lo: Math.min(b - span.maxMs, a) };
    case 'le':
      return { hi: Math.max(a, b - span.minMs) };
    case 'sa':
      return { lo: b };
    case 'eb':
      return { hi: a - span.minMs };
    default:
      // ne has none; ap's bounds move with the clock (rangeCondition), so it is left alone.
      return {};
  }
}

/**
 * Date predicates on one parameter (no modifier) as ONE idx_date subquery whose `low` lies in a
 * closed window, so SQLite reads one bounded range of (param, low, high, rid) instead of each
 * open-ended side of the index (`date=geA&date=ltB` read every row after A and every row before
 * B). Several predicates may share a row only when no resource ever had two rows for the
 * parameter (`span.maxRows <= 1`); the caller checks that. Undefined when no closed window follows.
 */
function dateWindowSql(r: string, preds: ParamPredicate[], span: DateSpan, names: Aliases): Sql | undefined {
  let lo = -Infinity;
  let hi = Infinity;
  for (const p of preds) {
    // Values are alternatives (OR): the predicate's window is the hull of theirs.
    let plo = Infinity;
    let phi = -Infinity;
    for (const v of p.values) {
      if (v.type !== 'date') return undefined;
      const b = lowBounds(v.prefix, v.range, span);
      plo = Math.min(plo, b.lo ?? -Infinity);
      phi = Math.max(phi, b.hi ?? Infinity);
    }
    lo = Math.max(lo, plo);
    hi = Math.min(hi, phi);
  }
  const from = storedInstant(lo);
  const to = storedInstant(hi);
  if (!from || !to) return undefined;
  const x = names.next('i');
  const conds = preds.map((p) => alternatives(x, p));
  return {
    sql: `${r}.rid IN (SELECT ${x}.rid FROM idx_date ${x} WHERE ${x}.param = ? AND ${x}.low >= ? AND ${x}.low <= ? AND ${conds.map((c) => c.sql).join(' AND ')})`,
    args: [`${preds[0]!.param.base}.${preds[0]!.param.code}`, from, to, ...conds.flatMap((c) => c.args)],
  };
}

/** The SQL expression a sort key orders by; never NULL, so keyset comparisons stay total. */
function sortExpr(r: string, key: SortKey): string {
  if (key.param === '_id') return `${r}.id`;
  if (key.param === '_lastUpdated') return `${r}.last_updated`;
  const p = `${key.param.base}.${key.param.code}`;
  if (!SAFE_PARAM.test(p)) throw new Error(`unsafe sort parameter ${p}`);
  const agg = key.descending ? 'MAX' : 'MIN';
  const table = INDEX_TABLE[key.param.type];
  const column: Record<string, string> = {
    string: 'value', token: 'code', date: key.descending ? 'high' : 'low', number: 'value', quantity: 'value', uri: 'value', reference: 'target_id',
  };
  const numeric = key.param.type === 'number' || key.param.type === 'quantity';
  return `IFNULL((SELECT ${agg}(${column[key.param.type]}) FROM ${table} WHERE rid = ${r}.rid AND param = '${p}'), ${numeric ? '-1e308' : "''"})`;
}

/** "After the cursor row" for mixed-direction keys: (k1 > v1) OR (k1 = v1 AND k2 > v2) … */
export function afterCursor(exprs: { expr: string; desc: boolean }[], values: Key[]): Sql {
  const ors: string[] = [];
  const args: unknown[] = [];
  for (let i = 0; i < exprs.length; i++) {
    const ands: string[] = [];
    for (let j = 0; j < i; j++) (ands.push(`${exprs[j]!.expr} = ?`), args.push(values[j]));
    ands.push(`${exprs[i]!.expr} ${exprs[i]!.desc ? '<' : '>'} ?`);
    args.push(values[i]);
    ors.push(`(${ands.join(' AND ')})`);
  }
  return { sql: `(${ors.join(' OR ')})`, args };
}

/** Search on one connection, with its prepared statements cached by SQL text. */
export class SqliteSearch {
  private readonly snapshot: (plan: SearchPlan) => SearchResult;

  constructor(private readonly statements: Statements) {
    this.snapshot = statements.db.transaction((plan: SearchPlan) => this.runIn(plan));
  }

  /** A prepared statement for `sql`, reused across calls. */
  prepare(sql: string): Database.Statement {
    return this.statements.get(sql);
  }

  /** WHERE for the plan's matches (types, not deleted, predicates, visibility). */
  whereSql(plan: SearchPlan, mode: Mode = 'probe'): Sql {
    const names = new Aliases();
    const visibility = plan.visibility ?? [];
    const narrowed = narrowAll(visibility, plan.types);
    // When an indexed parameter narrows the matches, the unary + keeps SQLite from driving the
    // query by the (far less selective) type index instead of the parameter's rid list.
    const typeCol = plan.where.some(drivesByIndex) ? '+r.type' : 'r.type';
    const parts = [plan.types.length === 1 ? `${typeCol} = ?` : `${typeCol} IN (SELECT value FROM json_each(?))`, 'r.deleted = 0'];
    if (narrowed === false) parts.push('0');
    const args: unknown[] = [plan.types.length === 1 ? plan.types[0] : JSON.stringify(plan.types)];
    const windows = this.dateWindows(plan.where, names);
    for (const p of plan.where) {
      const s = windows.has(p) ? windows.get(p) : predicateSql('r', p, visibility, names);
      if (!s) continue;
      parts.push(s.sql);
      args.push(...s.args);
    }
    const vis = visibilitySql('r', narrowed || [], names, mode);
    return { sql: parts.join(' AND ') + vis.sql, args: [...args, ...vis.args] };
  }

  /**
   * Top-level date predicates rewritten as bounded windows (dateWindowSql): the SQL for the first
   * of each set, and null for the others folded into it. Predicates on a parameter share one
   * subquery only while no resource ever had two values for it, since FHIR lets each predicate be
   * met by a different value (http://hl7.org/fhir/R4/search.html#combining).
   */
  private dateWindows(where: Predicate[], names: Aliases): Map<Predicate, Sql | null> {
    const out = new Map<Predicate, Sql | null>();
    const byParam = new Map<string, ParamPredicate[]>();
    for (const p of where) {
      if (p.kind !== 'param' || p.param.type !== 'date' || p.modifier) continue;
      const key = `${p.param.base}.${p.param.code}`;
      byParam.set(key, [...(byParam.get(key) ?? []), p]);
    }
    for (const [param, preds] of byParam) {
      const span = this.span(param);
      if (!span) continue;
      const merged = preds.length > 1 && span.maxRows <= 1 ? dateWindowSql('r', preds, span, names) : undefined;
      if (merged) {
        out.set(preds[0]!, merged);
        for (const q of preds.slice(1)) out.set(q, null);
        continue;
      }
      for (const p of preds) {
        const one = dateWindowSql('r', [p], span, names);
        if (one) out.set(p, one);
      }
    }
    return out;
  }

  /** The stored extent of a date parameter's ranges; undefined when nothing was ever indexed for it. */
  private span(param: string): DateSpan | undefined {
    const row = this.prepare('SELECT max_ms AS maxMs, min_ms AS minMs, max_rows AS maxRows FROM param_span WHERE param = ?').get(param);
    return row as DateSpan | undefined;
  }

  /**
   * A plan whose only condition is one equality on a token or reference parameter, unsorted: its
   * index range (param, code, system, rid) is already in rid order, so the page can be read as a
   * join from the index that stops at LIMIT instead of first listing every match.
   */
  private streamable(plan: SearchPlan, mode: Mode = 'probe'): Sql | undefined {
    if (plan.sort.length || plan.types.length !== 1 || plan.where.length !== 1) return undefined;
    const p = plan.where[0]!;
    if (p.kind !== 'param' || p.modifier || p.values.length !== 1 || (p.param.type !== 'token' && p.param.type !== 'reference')) return undefined;
    const names = new Aliases();
    const narrowed = narrowAll(plan.visibility ?? [], plan.types);
    if (narrowed === false) return undefined;
    const cond = paramCondition('x', p);
    const vis = visibilitySql('r', narrowed, names, mode);
    return {
      sql: `FROM ${INDEX_TABLE[p.param.type]} x JOIN resources r ON r.rid = x.rid WHERE ${cond.sql} AND +r.type = ? AND r.deleted = 0${vis.sql}`,
      args: [...cond.args, plan.types[0], ...vis.args],
    };
  }

  /**
   * The total: exact when asked for (`_total=accurate`, `_summary=count`); otherwise counted up to
   * ESTIMATE_CAP and left out above it (Bundle.total is optional in R4), because an exact count of
   * 100,000 matches costs more than the page itself. Never estimated from index statistics: those
   * would count resources the caller may not see.
   */
  private total(plan: SearchPlan, where: Sql, stream: Sql | undefined): number | undefined {
    if (plan.total === 'none' && !plan.countOnly) return undefined;
    const exact = plan.total === 'accurate' || plan.countOnly;
    if (exact) return (this.prepare(`SELECT COUNT(*) AS n FROM resources r WHERE ${where.sql}`).get(...where.args) as { n: number }).n;
    const inner = stream ? `SELECT 1 ${stream.sql} GROUP BY x.rid` : `SELECT 1 FROM resources r WHERE ${where.sql}`;
    const n = (this.prepare(`SELECT COUNT(*) AS n FROM (${inner} LIMIT ${ESTIMATE_CAP + 1})`).get(...(stream ?? where).args) as { n: number }).n;
    return n > ESTIMATE_CAP ? undefined : n;
  }

  /**
   * How the plan's visibility tests its candidates: a probe costs each candidate a few index
   * seeks, a list costs every statement one pass over what the caller can see by that rule (a
   * referral receiver's Tasks: 10,000 at 1M resources). So probe while the search narrows to at
   * most PROBE_CAP candidates before visibility, counted up to the cap (the count reads the same
   * index ranges the search then reads, within the cap); list above it.
   */
  private visibilityMode(plan: SearchPlan): Mode {
    // Custody, enrolment and type tests read the row itself either way: no count needed.
    const narrowed = narrowAll(plan.visibility ?? [], plan.types);
    if (!narrowed || !narrowed.some(modeMatters)) return 'probe';
    // Counting a `_has` search's candidates builds its list of sources a second time (+20–30 % at
    // 1M): it keeps the list form, as before the probes existed.
    if (plan.where.some(hasHas)) return 'list';
    const bare = { ...plan, visibility: [] };
    const stream = this.streamable(bare);
    const where = stream ? undefined : this.whereSql(bare);
    const inner = stream ? `SELECT 1 ${stream.sql} GROUP BY x.rid` : `SELECT 1 FROM resources r WHERE ${where!.sql}`;
    const row = this.prepare(`SELECT COUNT(*) AS candidates FROM (${inner} LIMIT ${PROBE_CAP + 1})`).get(...(stream ?? where!).args);
    return (row as { candidates: number }).candidates > PROBE_CAP ? 'list' : 'probe';
  }

  /**
   * Runs the plan: one page of matches, its includes, the total and the next cursor. All of it
   * reads one snapshot, so the total agrees with the page and a date window's span (param_span)
   * covers every row the search can see.
   */
  run(plan: SearchPlan): SearchResult {
    return this.snapshot(plan);
  }

  private runIn(plan: SearchPlan): SearchResult {
    const mode = this.visibilityMode(plan);
    const where = this.whereSql(plan, mode);
    const stream = this.streamable(plan, mode);
    const total = this.total(plan, where, stream);
    if (plan.countOnly) return { matches: [], included: [], total };
    if (stream) return this.streamPage(plan, stream, total);

    const keys = [...plan.sort.map((k) => ({ expr: sortExpr('r', k), desc: k.descending })), { expr: 'r.rid', desc: false }];
    let pageSql = where.sql;
    const pageArgs = [...where.args];
    if (plan.cursor) {
      const c = decodeCursor(plan.cursor);
      const values = [...(c.keys ?? []), c.seq];
      // A cursor from a search with other sort keys is as good as a tampered one.
      if (values.length !== keys.length) throw badRequest('Invalid paging cursor', '_cursor');
      const after = afterCursor(keys, values);
      pageSql += ` AND ${after.sql}`;
      pageArgs.push(...after.args);
    }
    const select = keys.slice(0, -1).map((k, i) => `, ${k.expr} AS k${i}`).join('');
    const order = keys.map((k) => `${k.expr} ${k.desc ? 'DESC' : 'ASC'}`).join(', ');
    const rows = this.prepare(
      `SELECT v.*, r.rid AS rid${select} FROM resources r JOIN versions v ON v.seq = r.seq WHERE ${pageSql} ORDER BY ${order} LIMIT ?`,
    ).all(...pageArgs, plan.count + 1) as PageRow[];
    const more = rows.length > plan.count;
    const page = rows.slice(0, plan.count);
    const last = page[page.length - 1];
    const nextCursor = more && last ? encodeCursor({ seq: last.rid, keys: plan.sort.map((_, i) => last[`k${i}`] ?? null) }) : undefined;
    const included = loadIncludes(this, plan, page);
    return { matches: page.map(rowToVersion), included, total, nextCursor };
  }

  /** The page of a streamable plan, in rid order from the index. */
  private streamPage(plan: SearchPlan, stream: Sql, total: number | undefined): SearchResult {
    let after = '';
    const args = [...stream.args];
    if (plan.cursor) {
      const c = decodeCursor(plan.cursor);
      if (c.keys?.length) throw badRequest('Invalid paging cursor', '_cursor');
      after = ' AND x.rid > ?';
      args.push(c.seq);
    }
    const rows = this.prepare(
      `SELECT v.*, r.rid AS rid ${stream.sql.replace(' WHERE ', ' JOIN versions v ON v.seq = r.seq WHERE ')}${after} GROUP BY x.rid ORDER BY x.rid LIMIT ?`,
    ).all(...args, plan.count + 1) as PageRow[];
    const more = rows.length > plan.count;
    const page = rows.slice(0, plan.count);
    const last = page[page.length - 1];
    const nextCursor = more && last ? encodeCursor({ seq: last.rid, keys: [] }) : undefined;
    return { matches: page.map(rowToVersion), included: loadIncludes(this, plan, page), total, nextCursor };
  }
}

/** Whether a predicate holds a `_has` anywhere (chains included). */
function hasHas(p: Predicate): boolean {
  if (p.kind === 'has') return true;
  if (p.kind === 'chain' || p.kind === 'not') return hasHas(p.inner);
  if (p.kind === 'and') return p.all.some(hasHas);
  return p.kind === 'or' && p.any.some(hasHas);
}

/** Above this many matches, a total that was not asked for exactly is left out. */
export const ESTIMATE_CAP = 1000;

/**
 * Most candidates for which visibility probes (visibilityMode). Measured at 1M resources for a
 * referral receiver on a loaded machine: probing added ≈ 40 µs per candidate, the `_has:Task`
 * list cost ≈ 100 ms per statement, so up to 1,000 candidates probing is the cheaper.
 */
export const PROBE_CAP = 1000;
