/**
 * Filling `rpt_ev` (report-sql.ts, step 2): the events of every kind an evaluation reads, each
 * dated by the lowest bound of its date before the period end.
 *
 * Sources of one resource type are read in one forward sweep when they allow it (dated by a search
 * parameter, every condition on indexed codes): their rids, tagged with their kind, are merged in
 * rid order, and the resources table and the (rid, param) date index are read once for all of them.
 * One sweep per source read the same pages again for every kind: with a dozen Observation kinds at
 * 100,000 clients, 1.29M page reads for a report, most of them the same Observation pages
 * (docs/reporting.md, "Performance"). Sources dated from their JSON, or with a condition on JSON,
 * keep a statement each.
 */
import { EXCLUDED_STATUSES, type CodeSource, type EventKind, type EventSource, type JsonValue, type ReportScope } from '../../reporting/query';
import { type Frag, type Step, frag, join, not, ridsWith } from './report-frag';

/** How one kind of event is used: its number in `rpt_ev`, and whether events before the period matter. */
export interface KindUse {
  n: number;
  history: boolean;
}

/** What the event statements need of an evaluation. */
export interface EventScope {
  scope: ReportScope;
  /** The period's first instant and the instant after its last day. */
  start: string;
  endExcl: string;
  /** The kind holding the key population records (its events carry their rank in `val`). */
  keyPopulation: EventKind;
}

/** The resource `r`'s JSON element holds the value (json_type tells JSON true/false from 1/0). */
const jsonValue = (src: JsonValue): Frag =>
  frag('EXISTS (SELECT 1 FROM versions v WHERE v.seq = r.seq AND json_type(v.content, ?) = ?)', src.json, src.equals ? 'true' : 'false');

/**
 * The rids carrying one of the codes, as a set (`+rid IN`: a filter on the code index's rids,
 * never a probe of that index per member of the set), or the resource `r`'s JSON (no parameter).
 */
function codeMatch(type: string, src: CodeSource): Frag {
  if ('param' in src) {
    const set = ridsWith(`${type}.${src.param}`, src.codes);
    return frag(`+rid IN (${set.sql})`, ...set.args);
  }
  // `[*]` steps into each member of an array: one json_each per step, the last one over the Codings.
  const steps = src.json.split('[*]').map((p, i) => (i ? `$${p}` : p));
  const each = steps.map((_, i) => (i ? `json_each(j${i - 1}.value, ?) j${i}` : 'json_each(v.content, ?) j0')).join(', ');
  const j = `j${steps.length - 1}`;
  const m = join(src.codes.map((c) => frag(`(json_extract(${j}.value, '$.code') = ? AND json_extract(${j}.value, '$.system') = ?)`, c.code, c.system ?? null)), ' OR ');
  return frag(`EXISTS (SELECT 1 FROM versions v, ${each} WHERE v.seq = r.seq AND (${m.sql || '0'}))`, ...steps, ...m.args);
}

/** True when every condition of the source is a set of rids from the code index (no record read). */
const indexedOnly = (src: EventSource): boolean =>
  (!src.code || 'param' in src.code) && [...(src.also ?? []), ...(src.unless ?? [])].every((c) => 'param' in c);

/**
 * The source's records as rids, before any is read: the code (or every record of the type), the
 * conditions on indexed codes, no excluded status. `rest` receives the conditions that need the
 * record itself (on its JSON).
 */
function sourceRids(src: EventSource, rest: Frag[]): Frag {
  const byRid: Frag[] = [];
  const add = (f: Frag, indexed: boolean): void => void (indexed ? byRid : rest).push(f);
  if (src.code && !('param' in src.code)) rest.push(codeMatch(src.type, src.code));
  for (const a of src.also ?? []) add('equals' in a ? jsonValue(a) : codeMatch(src.type, a), 'param' in a);
  for (const u of src.unless ?? []) add(not(codeMatch(src.type, u)), 'param' in u);
  const excluded = src.excludeStatus ?? EXCLUDED_STATUSES;
  if (excluded.length) byRid.push(frag(`+rid NOT IN (SELECT s.rid FROM idx_token s WHERE s.param = ? AND s.code IN (${excluded.map(() => '?').join(', ')}))`, `${src.type}.status`, ...excluded));
  const set = src.code && 'param' in src.code ? ridsWith(`${src.type}.${src.code.param}`, src.code.codes) : frag('SELECT rid FROM resources WHERE type = ?', src.type);
  const where = byRid.length ? join(byRid, ' AND ') : frag('1');
  return frag(`SELECT rid FROM (${set.sql}) WHERE ${where.sql}`, ...set.args, ...where.args);
}

/** The conditions every event meets: current, about a client, of the type, in scope. */
function recordWhere(ev: EventScope, type: string): Frag[] {
  const where = [frag('r.type = ? AND r.deleted = 0 AND r.patient IS NOT NULL', type)];
  if (ev.scope.custodian !== undefined) where.push(frag('r.custodian = ?', ev.scope.custodian));
  return where;
}

const COLS = 'r.rid AS rid, r.patient AS pid, r.custodian AS org, r.type AS type';

/**
 * The insert of rows `x` (kind, pid, at, rid, org, type) into `rpt_ev`, in key order (appended to
 * each kind's range rather than scattered in it); OR IGNORE: a record matching two sources of one
 * kind is one event. Kinds whose history does not matter keep only events from the period start.
 */
function insertEvents(ev: EventScope, kinds: readonly { n: number; history: boolean }[], kpKind: number | undefined): Frag {
  const val = kpKind === undefined ? 'NULL' : `CASE WHEN x.kind = ${kpKind} THEN kv.v END`;
  const kpJoin = kpKind === undefined ? '' : ` LEFT JOIN temp.rpt_kprank kv ON kv.rid = x.rid AND x.kind = ${kpKind}`;
  const recent = kinds.filter((k) => !k.history).map((k) => k.n);
  const history = kinds.filter((k) => k.history).map((k) => k.n);
  const lower = !recent.length ? frag('') : history.length ? frag(` AND (x.at >= ? OR x.kind IN (${history.join(', ')}))`, ev.start) : frag(' AND x.at >= ?', ev.start);
  return frag(
    `INSERT OR IGNORE INTO temp.rpt_ev (kind, pid, at, rid, org, type, val) SELECT x.kind, x.pid, x.at, x.rid, x.org, x.type, ${val} FROM x${kpJoin}
      WHERE x.at < ?${lower.sql} ORDER BY x.kind, x.pid, x.at, x.rid`,
    ev.endExcl,
    ...lower.args,
  );
}

/** One member of a sweep: a source and the kind it feeds. */
interface Member {
  src: EventSource;
  kind: EventKind;
  use: KindUse;
}

/**
 * The rids of a statement's records in rid order, in a table of their own (`rpt_k_<n>`): read as a
 * DISTINCT … ORDER BY subquery inside the statement instead, its temporary B-tree and the record
 * lookups evicted each other's pages, and every record cost a page read (Observations at 100,000
 * clients: 560k page reads and 2.7 s against 114k and 0.6 s from a table; docs/reporting.md).
 */
function ridTable(n: number, name: string, rows: Frag, tagged: boolean): Step[] {
  const columns = tagged ? 'rid, kind, dp' : 'rid';
  // Keyed as it is read and filled in key order (appended): a scan needs no sort, nor does a GROUP BY of the key.
  const create = `CREATE TEMP TABLE rpt_k_${n} (rid INTEGER NOT NULL${tagged ? ', kind INTEGER NOT NULL, dp TEXT NOT NULL' : ''}, PRIMARY KEY (${columns})) WITHOUT ROWID`;
  return [
    { name: `create rids ${name}`, sql: frag(create) },
    { name: `event rids ${name}`, sql: frag(`INSERT INTO temp.rpt_k_${n} SELECT DISTINCT ${columns} FROM (${rows.sql}) ORDER BY ${columns}`, ...rows.args) },
  ];
}

/**
 * The events of several sources of one type in one sweep: their rids tagged (kind, date
 * parameter), merged in rid order (`rpt_k_<n>`), each record read once and dated by a (rid, param)
 * probe.
 */
function sweepSteps(ev: EventScope, n: number, type: string, members: readonly Member[]): Step[] {
  const tagged = join(
    members.map(({ src, use }) => {
      const rids = sourceRids(src, []);
      return frag(`SELECT rid, ${use.n} AS kind, ? AS dp FROM (${rids.sql})`, `${src.type}.${(src.date as { param: string }).param}`, ...rids.args);
    }),
    ' UNION ALL ',
  );
  const w = join(recordWhere(ev, type), ' AND ');
  const kinds = [...new Map(members.map((m) => [m.use.n, m.use])).values()];
  const kp = members.find((m) => m.kind === ev.keyPopulation);
  const insert = insertEvents(ev, kinds, kp?.use.n);
  const name = `${type} (${[...new Set(members.map((m) => m.kind.id))].join(', ')})`;
  // Named index: left alone, the planner prefers the covering (param, low, high, rid) index and
  // scans the whole parameter for every record.
  const events = frag(
    `WITH x AS (SELECT ${COLS}, k.kind AS kind, MIN(d.low) AS at
       FROM temp.rpt_k_${n} k CROSS JOIN resources r ON r.rid = k.rid
         CROSS JOIN idx_date d INDEXED BY idx_date_rid ON d.rid = r.rid AND d.param = k.dp AND d.low < ?
       WHERE ${w.sql} GROUP BY k.rid, k.kind, k.dp) ${insert.sql}`,
    ev.endExcl,
    ...w.args,
    ...insert.args,
  );
  return [...ridTable(n, name, tagged, true), { name: `events ${name}`, sql: events }];
}

/** The events of one source whose date or conditions are read from its JSON, its records in rid order (`rpt_k_<n>`). */
function jsonSourceSteps(ev: EventScope, n: number, { src, kind, use }: Member): Step[] {
  const name = `${kind.id} ${src.type}`;
  const where = recordWhere(ev, src.type);
  // First: it adds the conditions on the record's JSON to `where`.
  const rids = ridTable(n, name, sourceRids(src, where), false);
  const from = `temp.rpt_k_${n} k CROSS JOIN resources r ON r.rid = k.rid`;
  const w = join(where, ' AND ');
  const insert = insertEvents(ev, [use], kind === ev.keyPopulation ? use.n : undefined);
  let events: Frag;
  if ('param' in src.date) {
    events = frag(
      `WITH x AS (SELECT ${COLS}, ? AS kind, MIN(d.low) AS at FROM ${from} CROSS JOIN idx_date d INDEXED BY idx_date_rid ON d.rid = r.rid AND d.param = ? AND d.low < ?
        WHERE ${w.sql} GROUP BY k.rid) ${insert.sql}`,
      use.n,
      `${src.type}.${src.date.param}`,
      ev.endExcl,
      ...w.args,
      ...insert.args,
    );
  } else {
    // A JSON date (day precision), read once per record (MATERIALIZED), not once per reference.
    const paths = src.date.json.map(() => 'json_extract(v.content, ?)');
    const expr = paths.length > 1 ? `COALESCE(${paths.join(', ')})` : paths[0]!;
    events = frag(
      `WITH x AS MATERIALIZED (SELECT ${COLS}, ? AS kind, (SELECT substr(${expr}, 1, 10) || 'T00:00:00.000Z' FROM versions v WHERE v.seq = r.seq) AS at
         FROM ${from} WHERE ${w.sql}) ${insert.sql}`,
      use.n,
      ...src.date.json,
      ...w.args,
      ...insert.args,
    );
  }
  return [...rids, { name: `events ${name}`, sql: events }];
}

/**
 * The statements filling `rpt_ev`: one sweep per resource type for the sources that allow it, one
 * statement for each other source; each reads its records from a table of rids (`rpt_k_<n>`, `ridTableCount` of them).
 */
export function eventSteps(ev: EventScope, kinds: ReadonlyMap<EventKind, KindUse>): { steps: Step[]; ridTableCount: number } {
  const sweeps = new Map<string, Member[]>();
  const single: Member[] = [];
  for (const [kind, use] of kinds) {
    for (const src of kind.sources) {
      const member = { src, kind, use };
      if ('param' in src.date && indexedOnly(src)) sweeps.set(src.type, [...(sweeps.get(src.type) ?? []), member]);
      else single.push(member);
    }
  }
  const steps: Step[] = [];
  let n = 0;
  for (const m of single) steps.push(...jsonSourceSteps(ev, n++, m));
  for (const [type, members] of sweeps) steps.push(...sweepSteps(ev, n++, type, members));
  return { steps, ridTableCount: n };
}
