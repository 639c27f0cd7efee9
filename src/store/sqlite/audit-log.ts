/**
 * AuditEvents on the embedded store: an append-only log beside the resource tables. An event is
 * one version row (its JSON exactly as the chain hashed it; `last_updated` is its `recorded`
 * instant) and a few narrow key rows in `audit_keys`, never a resource row or generic index rows.
 * Events outnumber every other resource (one per request), and the generic rows cost each read
 * ≈ 40 B-tree inserts; this costs ≈ 15 (docs/performance.md). AuditEvent searches use the
 * parameters src/search/registry.ts keeps for the type: http://hl7.org/fhir/R4/auditevent.html#search
 */
import type { InstantRange, ParamPredicate, ParamValue, Predicate, Prefix, SearchPlan } from '../../search/plan';
import type { IndexRows } from '../../search/index-rows';
import type { SearchResult } from '../port';
import { badRequest } from '../../fhir/outcome';
import { rangeCondition } from '../../search/ranges';
import { decodeCursor, encodeCursor } from '../cursor';
import { type VersionRow, rowToVersion } from './rows';
import type { Statements } from './statements';
import type { Sql } from './predicate-sql';
import { ESTIMATE_CAP, afterCursor } from './search-sql';
import { unsupported } from '../../search/audit-rules';
import type { Indexer } from './tx';
import type { Resource } from '@medplum/fhirtypes';
import type Database from 'better-sqlite3';

export const AUDIT = 'AuditEvent';

/** One searchable value of an event: `param` is the parameter's code, with `|url`/`|identifier` for those forms. */
export interface AuditKey {
  param: string;
  a: string;
  b: string;
}

const bare = (qualified: string): string => qualified.slice(qualified.indexOf('.') + 1);

/**
 * The key rows of an event from its index rows: tokens as (code, system), references as
 * (id, type), (url) or (identifier value, system). Dates are searched on the version's instant.
 */
export function auditKeys(rows: IndexRows): AuditKey[] {
  const keys = new Map<string, AuditKey>();
  const add = (param: string, a: string, b: string) => keys.set(`${param}\u0000${a}\u0000${b}`, { param, a, b });
  for (const t of rows.token) if (t.code !== null) add(bare(t.param), t.code, t.system ?? '');
  for (const r of rows.reference) {
    const code = bare(r.param);
    if (r.targetId !== null) add(code, r.targetId, r.targetType ?? '');
    if (r.url !== null) add(`${code}|url`, r.url, '');
    if (r.idValue !== null) add(`${code}|identifier`, r.idValue, r.idSystem ?? '');
  }
  return [...keys.values()];
}

/**
 * Key rows are grouped in buckets of consecutive version seqs (the first column of their key), so
 * the keys the mover writes all land in the newest bucket, a few MB that stay in the page cache,
 * whatever the value: a client's code or a resource id would otherwise put each event's keys on
 * random pages of a B-tree of millions of rows (at 1M events that cost a read by id ≈ 40 % of its
 * throughput; docs/performance.md). A lookup seeks (param, value) once per bucket: ≈ 430 seeks for
 * the 3.5M versions of the 100,000-client bench store.
 */
export const BUCKET_BITS = 13;

/** The bucket of a version seq. */
export const bucketOf = (seq: number): number => Math.floor(seq / 2 ** BUCKET_BITS);

/** The buckets 0 … newest, as the table `bucket(x)`. */
const BUCKETS = `WITH RECURSIVE bucket(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM bucket WHERE x < (SELECT MAX(seq) FROM versions) >> ${BUCKET_BITS})`;

/** The seqs of the key rows `k` meeting `conditions` in every bucket: `BUCKETS`, then one select per condition. */
function seqsInBuckets(conditions: string[]): string {
  return `${BUCKETS} ${conditions.map((c) => `SELECT k.seq FROM bucket CROSS JOIN audit_keys k ON k.bucket = bucket.x AND ${c}`).join(' UNION ALL ')}`;
}

/** The seqs of the events with a key matching one of the values: one seek per bucket and value. */
function keyListSql(p: ParamPredicate): Sql {
  const parts: Sql[] = p.values.map((value) => keyValueSql(p, value));
  return { sql: seqsInBuckets(parts.map((s) => s.sql)), args: parts.flatMap((s) => s.args) };
}

/**
 * A key predicate on the event row `v`: as a list of matching seqs when the search starts from
 * them (`driving`), else as a test of each event, one primary-key seek per value.
 */
function keySql(v: string, p: ParamPredicate, driving: boolean): Sql {
  // A value without a code (`system|`) leaves the key's second column open, so a test per event
  // could not seek its seq and would read its bucket's rows of the parameter: one list instead.
  if (driving || p.values.some((value) => value.type === 'token' && value.token.code === undefined)) {
    const list = keyListSql(p);
    return { sql: `${v}.seq ${p.modifier === 'not' ? 'NOT IN' : 'IN'} (${list.sql})`, args: list.args };
  }
  const parts: Sql[] = p.values.map((value) => keyValueSql(p, value));
  const tests = parts.map((s) => `EXISTS (SELECT 1 FROM audit_keys k WHERE k.bucket = ${v}.seq >> ${BUCKET_BITS} AND ${s.sql} AND k.seq = ${v}.seq)`);
  const sql = `(${tests.join(' OR ')})`;
  return { sql: p.modifier === 'not' ? `NOT ${sql}` : sql, args: parts.flatMap((s) => s.args) };
}

/** True for a predicate answered from key rows (not a date, not negated). */
const isKeyPredicate = (p: Predicate): p is ParamPredicate =>
  p.kind === 'param' && p.param.base === AUDIT && p.param.type !== 'date' && p.modifier !== 'not';

/**
 * At most this many key matches, the search starts from them (each a row lookup, then a sort);
 * above it, it walks the events in recorded order and tests each, which stops at a page.
 */
const DRIVE_CAP = 5000;

/** The condition one value puts on a key row `k`. */
function keyValueSql(p: ParamPredicate, value: ParamValue): Sql {
  const code = p.param.code;
  if (value.type === 'token') {
    if (value.text !== undefined || value.valueSetUrl || value.ofType) throw unsupported(`${code}:${p.modifier}`);
    const conds = ['k.param = ?'];
    const args: unknown[] = [code];
    if (value.token.code !== undefined) (conds.push('k.a = ?'), args.push(value.token.code));
    if (value.token.system === null) conds.push("k.b = ''");
    else if (value.token.system !== undefined) (conds.push('k.b = ?'), args.push(value.token.system));
    return { sql: conds.join(' AND '), args };
  }
  if (value.type === 'reference') {
    const r = value.ref;
    if (r.identifier) {
      const args: unknown[] = [`${code}|identifier`, r.identifier.code];
      if (r.identifier.system) args.push(r.identifier.system);
      return { sql: `k.param = ? AND k.a = ?${r.identifier.system ? ' AND k.b = ?' : ''}`, args };
    }
    if (r.url) return { sql: 'k.param = ? AND k.a = ?', args: [`${code}|url`, r.url] };
    if (r.targetType) return { sql: 'k.param = ? AND k.a = ? AND k.b = ?', args: [code, r.id, r.targetType] };
    return { sql: 'k.param = ? AND k.a = ?', args: [code, r.id] };
  }
  throw unsupported(code);
}


/** The instant of `v` against a date value, per prefix (http://hl7.org/fhir/R4/search.html#prefix). */
function instantSql(v: string, prefix: Prefix, range: InstantRange): Sql {
  const cond = rangeCondition(prefix, range);
  const joiner = cond[0]?.or ? ' OR ' : ' AND ';
  return { sql: `(${cond.map((c) => `${v}.last_updated ${c.op} ?`).join(joiner)})`, args: cond.map((c) => c.value) };
}

/**
 * One predicate as SQL on the version row `v` of an event. Rules about other types, compartments,
 * enrolments, chains and `_has` never hold for an AuditEvent (the access policy's visibility uses
 * them for other kinds of data).
 */
export function auditPredicateSql(v: string, p: Predicate, driver?: Predicate): Sql {
  switch (p.kind) {
    case 'id':
      return { sql: `${v}.id ${p.not ? 'NOT IN' : 'IN'} (${p.ids.map(() => '?').join(', ')})`, args: p.ids };
    case 'lastUpdated':
      return instantSql(v, p.prefix, p.range);
    case 'custodian':
      return { sql: `${v}.custodian IN (SELECT value FROM json_each(?))`, args: [JSON.stringify(p.custodians)] };
    case 'type':
      return { sql: p.types.includes(AUDIT) ? '1' : '0', args: [] };
    case 'or':
    case 'and': {
      const parts = (p.kind === 'or' ? p.any : p.all).map((q) => auditPredicateSql(v, q));
      const empty = p.kind === 'or' ? '0' : '1';
      return { sql: `(${parts.map((s) => s.sql).join(p.kind === 'or' ? ' OR ' : ' AND ') || empty})`, args: parts.flatMap((s) => s.args) };
    }
    case 'not': {
      const inner = auditPredicateSql(v, p.inner);
      return { sql: `NOT ${inner.sql}`, args: inner.args };
    }
    case 'missing': {
      if (p.param.base !== AUDIT) return { sql: '0', args: [] };
      // Every event has its instant.
      if (p.param.type === 'date') return { sql: p.missing ? '0' : '1', args: [] };
      // One list of the events having the parameter (a test per event could not seek its seq).
      const c = p.param.code;
      return { sql: `${v}.seq ${p.missing ? 'NOT IN' : 'IN'} (${seqsInBuckets(['k.param IN (?, ?, ?)'])})`, args: [c, `${c}|url`, `${c}|identifier`] };
    }
    case 'param': {
      if (p.param.base !== AUDIT) return { sql: '0', args: [] };
      if (p.param.type === 'date') {
        if (p.modifier) throw unsupported(`${p.param.code}:${p.modifier}`);
        const parts = p.values.map((value) => (value.type === 'date' ? instantSql(v, value.prefix, value.range) : { sql: '0', args: [] }));
        return { sql: `(${parts.map((s) => s.sql).join(' OR ')})`, args: parts.flatMap((s) => s.args) };
      }
      if (p.modifier && p.modifier !== 'not' && p.modifier !== 'identifier') throw unsupported(`${p.param.code}:${p.modifier}`);
      return keySql(v, p, p === driver);
    }
    case 'enrolled':
    case 'patient':
    case 'chain':
    case 'has':
      // Enrolment, compartments, chains and _has never hold for an event (none is in one).
      return { sql: '0', args: [] };
  }
}

interface SortSql {
  expr: string;
  desc: boolean;
}

/** Sort keys as columns of the version row; the seq breaks ties in the first key's direction. */
function sortKeys(plan: SearchPlan): SortSql[] {
  const keys = plan.sort.map((k): SortSql => {
    if (k.param === '_id') return { expr: 'v.id', desc: k.descending };
    if (k.param === '_lastUpdated' || k.param.code === 'date') return { expr: 'v.last_updated', desc: k.descending };
    throw unsupported(`_sort=${k.param.code}`);
  });
  // Unsorted pages come in the order events were recorded, straight from the (type, last_updated, seq) index.
  if (!keys.length) keys.push({ expr: 'v.last_updated', desc: false });
  return [...keys, { expr: 'v.seq', desc: keys[0]!.desc }];
}

/** The key predicate with the fewest matches, when at most DRIVE_CAP (each counted up to the cap). */
function drivingPredicate(sql: Statements, plan: SearchPlan): ParamPredicate | undefined {
  let best: { p: ParamPredicate; n: number } | undefined;
  for (const p of plan.where.filter(isKeyPredicate)) {
    const list = keyListSql(p);
    const n = (sql.get(`SELECT COUNT(*) AS n FROM (${list.sql} LIMIT ${DRIVE_CAP + 1})`).get(...list.args) as { n: number }).n;
    if (n <= DRIVE_CAP && (!best || n < best.n)) best = { p, n };
  }
  return best?.p;
}

/** Runs a search of type AuditEvent: one page, the total as asked, the next cursor. */
export function searchAuditLog(sql: Statements, plan: SearchPlan): SearchResult {
  if (plan.include?.length || plan.revinclude?.length) throw unsupported('_include');
  const driver = drivingPredicate(sql, plan);
  const parts = [...plan.where, ...(plan.visibility ?? [])].map((p) => auditPredicateSql('v', p, driver));
  // `+` keeps SQLite from walking the (type, last_updated) index when a few key matches can lead.
  const where = [`${driver ? '+' : ''}v.type = '${AUDIT}'`, ...parts.map((s) => s.sql)].join(' AND ');
  const args = parts.flatMap((s) => s.args);
  let total: number | undefined;
  if (plan.total === 'accurate' || plan.countOnly) total = (sql.get(`SELECT COUNT(*) AS n FROM versions v WHERE ${where}`).get(...args) as { n: number }).n;
  else if (plan.total === 'estimate') {
    const n = (sql.get(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM versions v WHERE ${where} LIMIT ${ESTIMATE_CAP + 1})`).get(...args) as { n: number }).n;
    total = n > ESTIMATE_CAP ? undefined : n;
  }
  if (plan.countOnly) return { matches: [], included: [], total };

  const keys = sortKeys(plan);
  let page = where;
  const pageArgs = [...args];
  if (plan.cursor) {
    const c = decodeCursor(plan.cursor);
    const values = [...(c.keys ?? []), c.seq];
    if (values.length !== keys.length) throw badRequest('Invalid paging cursor', '_cursor');
    // One direction throughout (always so unless sorted by several keys): a row value, which
    // SQLite seeks in the (type, last_updated, seq) index instead of reading the log from its start.
    const after = keys.every((k) => k.desc === keys[0]!.desc)
      ? { sql: `(${keys.map((k) => k.expr).join(', ')}) ${keys[0]!.desc ? '<' : '>'} (${keys.map(() => '?').join(', ')})`, args: values }
      : afterCursor(keys, values);
    page += ` AND ${after.sql}`;
    pageArgs.push(...after.args);
  }
  const select = keys.slice(0, -1).map((k, i) => `, ${k.expr} AS k${i}`).join('');
  const order = keys.map((k) => `${k.expr} ${k.desc ? 'DESC' : 'ASC'}`).join(', ');
  const rows = sql.get(`SELECT v.*${select} FROM versions v WHERE ${page} ORDER BY ${order} LIMIT ?`).all(...pageArgs, plan.count + 1) as (VersionRow &
    Record<string, string | number | null>)[];
  const more = rows.length > plan.count;
  const shown = rows.slice(0, plan.count);
  const last = shown[shown.length - 1];
  const nextCursor = more && last ? encodeCursor({ seq: last.seq, keys: keys.slice(0, -1).map((_, i) => last[`k${i}`] ?? null) }) : undefined;
  return { matches: shown.map(rowToVersion), included: [], total, nextCursor };
}

/** Writes an event's key rows from its stored JSON (idempotent: a key row is its own primary key). */
export function auditKeyWriter(db: Database.Database, indexer: Indexer): (seq: number, content: string) => void {
  const insert = db.prepare('INSERT OR IGNORE INTO audit_keys (bucket, param, a, b, seq) VALUES (?, ?, ?, ?, ?)');
  return (seq, content) => {
    for (const k of auditKeys(indexer(JSON.parse(content) as Resource))) insert.run(bucketOf(seq), k.param, k.a, k.b, seq);
  };
}

/**
 * Rewrites the key rows of up to `limit` AuditEvents with seq > `afterSeq` from their versions
 * (reindex, and the rebuild of an earlier key layout); returns the last seq seen. Only those
 * events' rows are replaced, so searches running beside it stay right.
 */
export function rewriteAuditKeys(db: Database.Database, indexer: Indexer, afterSeq: number, limit: number): { lastRid: number; count: number } {
  const rows = db.prepare(`SELECT seq, content FROM versions WHERE seq > ? AND type = '${AUDIT}' ORDER BY seq LIMIT ?`).all(afterSeq, limit) as {
    seq: number;
    content: string;
  }[];
  if (!rows.length) return { lastRid: afterSeq, count: 0 };
  const first = rows[0]!.seq;
  const last = rows[rows.length - 1]!.seq;
  db.prepare('DELETE FROM audit_keys WHERE bucket BETWEEN ? AND ? AND seq BETWEEN ? AND ?').run(bucketOf(first), bucketOf(last), first, last);
  const keys = auditKeyWriter(db, indexer);
  for (const row of rows) keys(row.seq, row.content);
  return { lastRid: last, count: rows.length };
}

