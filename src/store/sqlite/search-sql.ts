/**
 * Translates a SearchPlan into SQL over the embedded store's tables.
 * Paging is keyset-based on (sort keys…, rid): inserts during paging neither skip nor repeat rows.
 */
import type Database from 'better-sqlite3';
import type { Predicate, SearchPlan, SortKey } from '../../search/plan';
import type { SearchResult } from '../port';
import { decodeCursor, encodeCursor } from '../cursor';
import { rangeCondition } from '../../search/ranges';
import { rowToVersion } from './rows';

interface Sql {
  sql: string;
  args: unknown[];
}

const SORT_COLUMNS: Record<SortKey['param'], string> = { _id: 'r.id', _lastUpdated: 'r.last_updated' };

function predicateSql(p: Predicate): Sql {
  switch (p.kind) {
    case 'id': {
      const marks = p.ids.map(() => '?').join(', ');
      return { sql: `r.id ${p.not ? 'NOT IN' : 'IN'} (${marks})`, args: p.ids };
    }
    case 'lastUpdated': {
      const cond = rangeCondition(p.prefix, p.range);
      return {
        sql: cond.map((c) => `r.last_updated ${c.op} ?`).join(cond.length > 1 && cond[0]?.or ? ' OR ' : ' AND '),
        args: cond.map((c) => c.value),
      };
    }
  }
}

/** WHERE clause for the plan's filters (without paging). */
function whereSql(plan: SearchPlan): Sql {
  const parts: string[] = [`r.type IN (${plan.types.map(() => '?').join(', ')})`, 'r.deleted = 0'];
  const args: unknown[] = [...plan.types];
  for (const p of plan.where) {
    const s = predicateSql(p);
    parts.push(`(${s.sql})`);
    args.push(...s.args);
  }
  return { sql: parts.join(' AND '), args };
}

/** Keyset condition "after the cursor row" for mixed-direction sort keys. */
function afterCursorSql(sort: SortKey[], keys: (string | number | null)[], rid: number): Sql {
  const cols = [...sort.map((s) => ({ col: SORT_COLUMNS[s.param], desc: s.descending })), { col: 'r.rid', desc: false }];
  const vals = [...keys, rid];
  const ors: string[] = [];
  const args: unknown[] = [];
  for (let i = 0; i < cols.length; i++) {
    const ands: string[] = [];
    for (let j = 0; j < i; j++) {
      ands.push(`${cols[j]!.col} = ?`);
      args.push(vals[j]);
    }
    ands.push(`${cols[i]!.col} ${cols[i]!.desc ? '<' : '>'} ?`);
    args.push(vals[i]);
    ors.push(`(${ands.join(' AND ')})`);
  }
  return { sql: `(${ors.join(' OR ')})`, args };
}

/** Runs the plan against `db` (a committed-view or in-transaction connection). */
export function runSearch(db: Database.Database, plan: SearchPlan): SearchResult {
  const where = whereSql(plan);
  const total =
    plan.total === 'none' && !plan.countOnly
      ? undefined
      : (db.prepare(`SELECT COUNT(*) AS n FROM resources r WHERE ${where.sql}`).get(...where.args) as { n: number }).n;
  if (plan.countOnly) return { matches: [], included: [], total };

  let pageSql = where.sql;
  const pageArgs = [...where.args];
  if (plan.cursor) {
    const c = decodeCursor(plan.cursor);
    const after = afterCursorSql(plan.sort, c.keys ?? [], c.seq);
    pageSql += ` AND ${after.sql}`;
    pageArgs.push(...after.args);
  }
  const order = [...plan.sort.map((s) => `${SORT_COLUMNS[s.param]} ${s.descending ? 'DESC' : 'ASC'}`), 'r.rid ASC'].join(', ');
  const rows = db
    .prepare(
      `SELECT v.*, r.rid AS rid, r.id AS sort_id, r.last_updated AS sort_lu FROM resources r JOIN versions v ON v.seq = r.seq
       WHERE ${pageSql} ORDER BY ${order} LIMIT ?`,
    )
    .all(...pageArgs, plan.count + 1) as (Parameters<typeof rowToVersion>[0] & { rid: number; sort_id: string; sort_lu: string })[];
  const more = rows.length > plan.count;
  const page = rows.slice(0, plan.count);
  const last = page[page.length - 1];
  const nextCursor =
    more && last
      ? encodeCursor({ seq: last.rid, keys: plan.sort.map((s) => (s.param === '_id' ? last.sort_id : last.sort_lu)) })
      : undefined;
  return { matches: page.map(rowToVersion), included: [], total, nextCursor };
}
