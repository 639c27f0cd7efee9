/**
 * `_include` and `_revinclude` (with `:iterate`) for a page of matches
 * (http://hl7.org/fhir/R4/search.html#include). Included resources pass the same visibility
 * predicates as matches, so nothing invisible leaks in.
 */
import type { IncludeSpec, SearchPlan } from '../../search/plan';
import type { StoredVersion } from '../port';
import { type VersionRow, rowToVersion } from './rows';
import { Aliases, visibilitySql } from './predicate-sql';
import type { SqliteSearch } from './search-sql';

/** Most resources one page may include; keeps a `*:iterate` from walking the whole graph. */
export const MAX_INCLUDED = 1000;
/** Rounds of `:iterate` before stopping. */
const MAX_ITERATIONS = 4;

type Row = VersionRow & { rid: number };

function paramFilter(spec: IncludeSpec, column: string): { sql: string; args: unknown[] } {
  if (spec.param) return { sql: `${column} = ?`, args: [`${spec.param.base}.${spec.param.code}`] };
  if (spec.sourceType === '*') return { sql: '1', args: [] };
  return { sql: `${column} LIKE ?`, args: [`${spec.sourceType}.%`] };
}

function forward(search: SqliteSearch, plan: SearchPlan, spec: IncludeSpec, sources: Row[]): Row[] {
  const rids = sources.filter((s) => spec.sourceType === '*' || s.type === spec.sourceType).map((s) => s.rid);
  if (!rids.length) return [];
  const pf = paramFilter(spec, 'x.param');
  const vis = visibilitySql('t', plan.visibility ?? [], new Aliases());
  const sql = `SELECT DISTINCT v.*, t.rid AS rid FROM idx_ref x
    JOIN resources t ON t.type = x.target_type AND t.id = x.target_id
    JOIN versions v ON v.seq = t.seq
    WHERE x.rid IN (SELECT value FROM json_each(?)) AND ${pf.sql}${spec.targetType ? ' AND x.target_type = ?' : ''}
      AND t.deleted = 0${vis.sql} LIMIT ?`;
  const args = [JSON.stringify(rids), ...pf.args, ...(spec.targetType ? [spec.targetType] : []), ...vis.args, MAX_INCLUDED + 1];
  return search.prepare(sql).all(...args) as Row[];
}

/**
 * The reference parameters a `*` include may use, as a CTE `ps(p)`: without one equal parameter
 * no index on idx_ref applies and SQLite reads the whole table, so the distinct parameters of the
 * source type are listed by a skip-scan of (param, …) — one index seek per parameter.
 */
function paramList(spec: IncludeSpec): { sql: string; args: unknown[] } {
  // '.' + 1 = '/': the range holds exactly the parameters named "<sourceType>.…".
  const [from, to] = spec.sourceType === '*' ? ['', '\uffff'] : [`${spec.sourceType}.`, `${spec.sourceType}/`];
  return {
    sql: `ps(p) AS (SELECT (SELECT MIN(param) FROM idx_ref WHERE param >= ? AND param < ?)
      UNION ALL SELECT (SELECT MIN(param) FROM idx_ref WHERE param > ps.p AND param < ?) FROM ps WHERE ps.p IS NOT NULL)`,
    args: [from, to, to],
  };
}

function reverse(search: SqliteSearch, plan: SearchPlan, spec: IncludeSpec, targets: Row[]): Row[] {
  const byType = new Map<string, string[]>();
  for (const t of targets) byType.set(t.type, [...(byType.get(t.type) ?? []), t.id]);
  const vis = visibilitySql('s', plan.visibility ?? [], new Aliases());
  const ps = spec.param ? { sql: '', args: [] } : paramList(spec);
  const head = spec.param ? 'FROM idx_ref x' : `FROM ps JOIN idx_ref x ON x.param = ps.p`;
  const sql = `${spec.param ? '' : `WITH RECURSIVE ${ps.sql} `}SELECT DISTINCT v.*, s.rid AS rid ${head}
    JOIN resources s ON s.rid = x.rid
    JOIN versions v ON v.seq = s.seq
    WHERE ${spec.param ? 'x.param = ? AND ' : ''}x.target_type = ? AND x.target_id IN (SELECT value FROM json_each(?))
      AND s.deleted = 0${vis.sql} LIMIT ?`;
  const first = spec.param ? [`${spec.param.base}.${spec.param.code}`] : ps.args;
  const out: Row[] = [];
  for (const [type, ids] of byType) {
    out.push(...(search.prepare(sql).all(...first, type, JSON.stringify(ids), ...vis.args, MAX_INCLUDED + 1) as Row[]));
  }
  return out;
}

/** Resolves the plan's includes for `page`; returns them without the page's own matches. */
export function loadIncludes(search: SqliteSearch, plan: SearchPlan, page: Row[]): StoredVersion[] {
  const specs = [...(plan.include ?? []).map((s) => ({ s, rev: false })), ...(plan.revinclude ?? []).map((s) => ({ s, rev: true }))];
  if (!specs.length || !page.length) return [];
  const seen = new Set(page.map((r) => r.rid));
  const out: Row[] = [];
  let frontier = page;
  for (let round = 0; round <= MAX_ITERATIONS && frontier.length && out.length < MAX_INCLUDED; round++) {
    const found: Row[] = [];
    for (const { s, rev } of specs) {
      if (round > 0 && !s.iterate) continue;
      for (const row of rev ? reverse(search, plan, s, frontier) : forward(search, plan, s, frontier)) {
        if (seen.has(row.rid)) continue;
        seen.add(row.rid);
        found.push(row);
      }
    }
    out.push(...found);
    frontier = found;
  }
  return out.slice(0, MAX_INCLUDED).map(rowToVersion);
}
