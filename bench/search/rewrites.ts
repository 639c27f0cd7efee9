/**
 * Scratch versions of the SQL the store generates, for measuring proposed changes to
 * src/store/sqlite/predicate-sql.ts and search-sql.ts without editing them. Each rewrite edits the
 * generated text and the bound values exactly as the proposed translator would emit them, and
 * leaves statements alone where the code already does so (the store's SQL changes under it); the
 * prototype checks that every rewritten search returns the same total and page as the original.
 */
import type Database from 'better-sqlite3';
import { Statements } from '../../src/store/sqlite/statements';
import type { Captured } from './explain';

export type Rewrite = (sql: string, args: unknown[]) => Captured;

const placeholders = (s: string) => s.split('?').length - 1;

/** The value bound to the first `?` at or after `index` in `sql`. */
function argAt(sql: string, args: unknown[], index: number): unknown {
  return args[placeholders(sql.slice(0, index))];
}

/**
 * Replaces every match of the global `re`, giving `fn` the values bound inside the match; `fn`
 * returns the new text and its values, or undefined to keep the match as it is.
 */
function replaceBound(sql: string, args: unknown[], re: RegExp, fn: (m: RegExpMatchArray, bound: unknown[]) => Captured | undefined): Captured {
  let text = '';
  const values: unknown[] = [];
  let last = 0;
  let used = 0;
  for (const m of sql.matchAll(re)) {
    const before = sql.slice(last, m.index);
    const n = placeholders(before);
    text += before;
    values.push(...args.slice(used, used + n));
    used += n;
    const inside = placeholders(m[0]);
    const bound = args.slice(used, used + inside);
    const r = fn(m, bound) ?? { sql: m[0], args: bound };
    text += r.sql;
    values.push(...r.args);
    used += inside;
    last = m.index! + m[0].length;
  }
  return { sql: text + sql.slice(last), args: [...values, ...args.slice(used)] };
}

/**
 * `+r.type = ?` stops SQLite from picking the (type, …) indexes of `resources`, whose
 * selectivity it cannot know without statistics, so the `rid IN (index subquery)` drives the
 * search and rows come out in rid order (no sort before LIMIT). Kept off searches without an
 * index predicate and `_id` searches, which the (type, id) index serves best.
 */
export const driveFromIndex: Rewrite = (sql, args) => {
  if (/\br\.id (NOT )?IN \(\?/.test(sql) || !/\br\.rid IN \(SELECT/.test(sql)) return { sql, args };
  return { sql: sql.replace(/(FROM resources r(?: JOIN versions v ON v\.seq = r\.seq)? WHERE )r\.type = \?/, '$1+r.type = ?'), args };
};

/**
 * `id IN (SELECT patient_id FROM enrolments WHERE org IN …)` builds the list of every client
 * enrolled at the organisation before testing one row; a correlated EXISTS probes the
 * (patient_id, org) primary key per candidate instead.
 */
export const enrolledExists: Rewrite = (sql, args) => ({
  sql: sql.replace(
    /(\w+)\.id IN \(SELECT patient_id FROM enrolments WHERE org IN \(SELECT value FROM json_each\(\?\)\)\)/g,
    'EXISTS (SELECT 1 FROM enrolments en WHERE en.patient_id = $1.id AND en.org IN (SELECT value FROM json_each(?)))',
  ),
  args,
});

/** The resource type each `resources` alias stands for, where the statement fixes it. */
function aliasTypes(sql: string, args: unknown[]): Map<string, string> {
  const types = new Map<string, string>();
  const outer = /FROM resources r(?: JOIN versions v ON v\.seq = r\.seq)? WHERE \+?r\.type = \?/.exec(sql);
  if (outer) types.set('r', String(argAt(sql, args, outer.index + outer[0].length - 1)));
  for (const m of sql.matchAll(/JOIN resources (t\d+) ON \1\.type = (c\d+)\.target_type/g)) {
    const at = sql.indexOf(`${m[2]}.target_type = ?`, m.index! + m[0].length);
    if (at >= 0) types.set(m[1]!, String(argAt(sql, args, at + `${m[2]}.target_type = `.length)));
  }
  const rev = /JOIN resources s ON s\.rid = x\.rid[\s\S]*?WHERE x\.param = \?/.exec(sql);
  if (rev) types.set('s', String(argAt(sql, args, rev.index + rev[0].length - 1)).split('.')[0]!);
  return types;
}

const VISIBILITY =
  /\((\w+)\.type IN \(SELECT value FROM json_each\(\?\)\) OR \(\1\.type = 'Patient' AND (.+?)\) OR \(\1\.type IN \(SELECT value FROM json_each\(\?\)\) AND \1\.custodian IN \(SELECT value FROM json_each\(\?\)\)\)\)/g;

/**
 * The visibility OR covers every type; where the alias's type is known when the SQL is built,
 * only its branch can be true, so the others (and their json_each lookups per row) go.
 */
export const visibilityForType: Rewrite = (sql, args) => {
  const types = aliasTypes(sql, args);
  return replaceBound(sql, args, VISIBILITY, (m, [shared, orgs, custodial, custodians]) => {
    const type = types.get(m[1]!);
    if (!type) return undefined;
    if ((JSON.parse(String(shared)) as string[]).includes(type)) return { sql: '1', args: [] };
    if (type === 'Patient') return { sql: m[2]!, args: [orgs] };
    if ((JSON.parse(String(custodial)) as string[]).includes(type)) {
      return { sql: `${m[1]}.custodian IN (SELECT value FROM json_each(?))`, args: [custodians] };
    }
    return { sql: '0', args: [] };
  });
};

const KNOWN_PATIENT = /\((\w+)\.type = 'Patient' AND (EXISTS \(SELECT 1 FROM enrolments \w+ WHERE [^()]*\(SELECT value FROM json_each\(\?\)\)\))\)/g;

/**
 * Narrowed to Patient, the enrolment test still carries `type = 'Patient'`: a constant
 * equality SQLite happily serves from the type index, undoing `+r.type` and ranging over every
 * client. Where the alias's type is already fixed the literal test says nothing, so it goes.
 */
export const dropKnownType: Rewrite = (sql, args) => {
  const types = aliasTypes(sql, args);
  return replaceBound(sql, args, KNOWN_PATIENT, (m, bound) => (types.get(m[1]!) === 'Patient' ? { sql: m[2]!, args: bound } : undefined));
};

const DATE_GE_LT =
  /r\.rid IN \(SELECT (i\d+)\.rid FROM idx_date \1 WHERE \1\.param = \? AND \(\(\1\.high > \? OR \(\1\.low >= \? AND \1\.high <= \?\)\)\)\) AND r\.rid IN \(SELECT (i\d+)\.rid FROM idx_date \2 WHERE \2\.param = \? AND \(\2\.low < \?\)\)/g;

/**
 * `date=geA&date=ltB` as two subqueries reads every row after A and every row before B, then
 * intersects. On a parameter with one value per resource (Observation.date) both conditions can
 * sit on the same index row, and because no stored range on that parameter is longer than
 * `maxSpanMs` (here measured; the store would keep it per parameter at write time),
 * `high > A` implies `low > A − maxSpan`: one bounded range of the (param, low) index.
 */
export function dateWindow(maxSpanMs: Map<string, number>): Rewrite {
  return (sql, args) =>
    replaceBound(sql, args, DATE_GE_LT, (m, [p1, gtHigh, geLow, geHigh, p2, ltLow]) => {
      const span = maxSpanMs.get(String(p1));
      if (p1 !== p2 || span === undefined) return undefined;
      const fromHigh = new Date(Date.parse(String(gtHigh)) - span).toISOString();
      const lower = fromHigh < String(geLow) ? fromHigh : String(geLow);
      const x = m[1]!;
      return {
        sql: `r.rid IN (SELECT ${x}.rid FROM idx_date ${x} WHERE ${x}.param = ? AND ${x}.low >= ? AND ${x}.low < ? AND ((${x}.high > ? OR (${x}.low >= ? AND ${x}.high <= ?))))`,
        args: [p1, lower, ltLow, gtHigh, geLow, geHigh],
      };
    });
}

/** Index of the parenthesis closing the one at `open` (the generated SQL has none inside strings). */
function closing(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    if (sql[i] === '(') depth++;
    else if (sql[i] === ')' && --depth === 0) return i;
  }
  throw new Error('unbalanced SQL');
}

const CHAIN_HEAD =
  /IN \(SELECT (c\d+)\.rid FROM idx_ref \1 JOIN resources (t\d+) ON \2\.type = \1\.target_type AND \2\.id = \1\.target_id\s+WHERE \1\.param = \? AND \1\.target_type = \? AND \2\.deleted = 0 AND /;

/**
 * A chain joins every reference of the parameter to its target and then filters the targets,
 * so `focus:ServiceRequest.subject:Patient.identifier=x` reads every Task.focus and every
 * ServiceRequest.subject row. Resolving inside-out (targets that match first, then the
 * references to them by `target_id IN (…)`) lets each level use idx_ref (param, target_id, …).
 * Run after visibilityForType, which needs the JOIN form to find each alias's type.
 */
export const chainInsideOut: Rewrite = (sql, args) => {
  for (let m = CHAIN_HEAD.exec(sql); m; m = CHAIN_HEAD.exec(sql)) {
    const [head, c, t] = m as unknown as [string, string, string];
    const open = m.index + 3;
    const end = closing(sql, open);
    const at = placeholders(sql.slice(0, m.index));
    const targetType = args[at + 1];
    const body = sql.slice(m.index + head.length, end);
    const replaced = `IN (SELECT ${c}.rid FROM idx_ref ${c} WHERE ${c}.param = ? AND ${c}.target_type = ? AND ${c}.target_id IN (SELECT ${t}.id FROM resources ${t} WHERE +${t}.type = ? AND ${t}.deleted = 0 AND ${body}))`;
    sql = sql.slice(0, m.index) + replaced + sql.slice(end + 1);
    args = [...args.slice(0, at + 2), targetType, ...args.slice(at + 2)];
  }
  return { sql, args };
};

const ONE_INDEX =
  /^SELECT (v\.\*, r\.rid AS rid|COUNT\(\*\) AS n) FROM resources r(?: JOIN versions v ON v\.seq = r\.seq)? WHERE \+r\.type = \? AND r\.deleted = 0 AND r\.rid IN \(SELECT (i\d+)\.rid FROM (idx_\w+) \2 WHERE (\2\.param = \? AND \(\([^()]*\)\))\)([\s\S]*?)( ORDER BY r\.rid ASC LIMIT \?)?$/;

/** The statement split around its single equality index predicate, or undefined when it has another shape. */
function oneIndex(sql: string, args: unknown[]) {
  const m = ONE_INDEX.exec(sql);
  if (!m || /\brid IN \(/.test(m[5]!)) return undefined;
  const [, select, x, table, cond, rest] = m as unknown as [string, string, string, string, string, string];
  const k = placeholders(cond);
  const n = placeholders(rest);
  return { select, x, table, cond, rest, type: args[0], condArgs: args.slice(1, 1 + k), restArgs: args.slice(1 + k, 1 + k + n), tail: args.slice(1 + k + n) };
}

/**
 * `rid IN (subquery)` always builds the whole rid list before the first row, so a page of 20 from
 * a code with 190,000 matches still reads 190,000 index entries. As a join from a (param, code,
 * system, rid) index, rows arrive in rid order, GROUP BY drops a resource's duplicate rows as it
 * goes, and LIMIT stops the walk. Only for a single equality predicate, whose range is rid-ordered.
 */
export const streamPage: Rewrite = (sql, args) => {
  const q = oneIndex(sql, args);
  if (!q || !q.select.startsWith('v.*')) return { sql, args };
  return {
    sql: `SELECT v.*, r.rid AS rid FROM ${q.table} ${q.x} JOIN resources r ON r.rid = ${q.x}.rid JOIN versions v ON v.seq = r.seq WHERE ${q.cond} AND +r.type = ? AND r.deleted = 0${q.rest} GROUP BY ${q.x}.rid ORDER BY ${q.x}.rid ASC LIMIT ?`,
    args: [...q.condArgs, q.type, ...q.restArgs, ...q.tail],
  };
};

/**
 * Counting visits every match's resource row (type, deletion, custody), about a microsecond each;
 * at 100,000+ matches that is the whole budget. When the client has not asked for an exact total
 * the store could stop at `cap` and leave Bundle.total out above it (R4 makes it optional).
 */
const COUNT_HEAD = 'SELECT COUNT(*) AS n FROM resources r WHERE ';

export function cappedCount(cap: number): Rewrite {
  return (sql, args) => {
    if (!sql.startsWith(COUNT_HEAD)) return { sql, args };
    const q = oneIndex(sql, args);
    if (!q) return { sql: `SELECT COUNT(*) AS n FROM (SELECT 1 FROM resources r WHERE ${sql.slice(COUNT_HEAD.length)} LIMIT ${cap + 1})`, args };
    return {
      sql: `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${q.table} ${q.x} JOIN resources r ON r.rid = ${q.x}.rid WHERE ${q.cond} AND +r.type = ? AND r.deleted = 0${q.rest} GROUP BY ${q.x}.rid LIMIT ${cap + 1})`,
      args: [...q.condArgs, q.type, ...q.restArgs, ...q.tail],
    };
  };
}

/** Applies rewrites in order. */
export function chain(rewrites: Rewrite[]): Rewrite {
  return (sql, args) => rewrites.reduce<Captured>((c, r) => r(c.sql, c.args), { sql, args });
}

/**
 * A statement cache for SqliteSearch that runs the rewritten SQL instead of the generated one,
 * and keeps what it ran for EXPLAIN.
 */
export class RewritingStatements extends Statements {
  readonly ran: Captured[] = [];

  constructor(db: Database.Database, private readonly rewrite: Rewrite) {
    super(db);
  }

  override get(sql: string): Database.Statement {
    const exec = (method: 'get' | 'all') => (...args: unknown[]) => {
      const r = this.rewrite(sql, args);
      this.ran.push(r);
      if (this.ran.length > 50) this.ran.shift();
      return super.get(r.sql)[method](...r.args);
    };
    // SqliteSearch and the include loader only ever call get and all on what they prepare.
    return { get: exec('get'), all: exec('all') } as unknown as Database.Statement;
  }
}
