/**
 * Export pages on the embedded store: the matches of a search plan as their stored JSON text, for
 * bulk export in identified mode, which writes resources exactly as stored and so needs no
 * JSON.parse + JSON.stringify per resource. The WHERE is the search's own (SqliteSearch.whereSql:
 * types, predicates and the caller's visibility), the order and cursors those of a search that is
 * unsorted (rid) or sorted by _lastUpdated ascending, so a page read here and one read through
 * `search` continue each other.
 */
import type Database from 'better-sqlite3';
import type { SearchPlan } from '../../search/plan';
import { badRequest } from '../../fhir/outcome';
import { decodeCursor, encodeCursor } from '../cursor';
import { SqliteSearch } from './search-sql';
import { Statements } from './statements';

/** One current version as stored: its JSON text is the resource with the server's meta. */
export interface RawMatch {
  type: string;
  id: string;
  lastUpdated: string;
  json: string;
}

/** A page of raw matches and the cursor of the next one (as `search` would encode it). */
export interface RawPage {
  matches: RawMatch[];
  nextCursor?: string;
}

/** Reads export pages on `db` (the store's read connection, or another read-only one on its file). */
export type ExportPageReader = (plan: SearchPlan) => Promise<RawPage>;

type Row = RawMatch & { rid: number; json: string | null };

/** Whether the plan is ordered by _lastUpdated ascending (else it must be unsorted: rid order). */
function byTime(plan: SearchPlan): boolean {
  if (!plan.sort.length) return false;
  const [key] = plan.sort;
  if (plan.sort.length === 1 && key!.param === '_lastUpdated' && !key!.descending) return true;
  throw new Error('export pages are unsorted or sorted by _lastUpdated ascending');
}

function page(search: SqliteSearch, plan: SearchPlan): RawPage {
  if (plan.include?.length || plan.revinclude?.length || plan.countOnly) throw new Error('export pages have no includes or counts');
  const timed = byTime(plan);
  const where = search.whereSql(plan);
  const args = [...where.args];
  let after = '';
  if (plan.cursor) {
    const c = decodeCursor(plan.cursor);
    const keys = c.keys ?? [];
    if (keys.length !== (timed ? 1 : 0)) throw badRequest('Invalid paging cursor', '_cursor');
    // A row value lets SQLite start its (type, last_updated, rid) index range at the cursor; it
    // selects the same rows as search's (k > v) OR (k = v AND rid > seq).
    after = timed ? ' AND (r.last_updated, r.rid) > (?, ?)' : ' AND r.rid > ?';
    args.push(...keys, c.seq);
  }
  const order = timed ? 'r.last_updated ASC, r.rid ASC' : 'r.rid ASC';
  const rows = search
    .prepare(
      `SELECT r.rid AS rid, r.type AS type, r.id AS id, r.last_updated AS lastUpdated, v.content AS json
       FROM resources r JOIN versions v ON v.seq = r.seq WHERE ${where.sql}${after} ORDER BY ${order} LIMIT ?`,
    )
    .all(...args, plan.count + 1) as Row[];
  const more = rows.length > plan.count;
  const kept = rows.slice(0, plan.count);
  const last = kept[kept.length - 1];
  const nextCursor = more && last ? encodeCursor({ seq: last.rid, keys: timed ? [last.lastUpdated] : [] }) : undefined;
  const matches = kept.filter((r) => r.json !== null).map((r) => ({ type: r.type, id: r.id, lastUpdated: r.lastUpdated, json: r.json! }));
  return nextCursor ? { matches, nextCursor } : { matches };
}

/** The export page reader of one connection; each page reads one snapshot, as a search does. */
export function sqliteExportPages(db: Database.Database): ExportPageReader {
  const search = new SqliteSearch(new Statements(db));
  const read = db.transaction((plan: SearchPlan) => page(search, plan));
  return async (plan) => read(plan);
}
