/**
 * Captures the SQL the store runs for a plan and asks SQLite how it would execute it. The store's
 * own SqliteSearch is used unchanged; only the statement cache it is given is a recording one, on
 * a separate read-only connection, so src/ needs no hooks and the timed store is untouched.
 */
import type Database from 'better-sqlite3';
import type { SearchPlan } from '../../src/search/plan';
import { SqliteSearch } from '../../src/store/sqlite/search-sql';
import { Statements } from '../../src/store/sqlite/statements';

export interface Captured {
  sql: string;
  args: unknown[];
}

export interface PlanLine {
  depth: number;
  detail: string;
  /** Why this line is a problem, when it is one. */
  flag?: string;
}

export interface Explained extends Captured {
  lines: PlanLine[];
}

const RUNNERS = new Set(['get', 'all', 'iterate', 'run']);

/** A statement cache that notes every statement executed, with the values bound to it. */
class RecordingStatements extends Statements {
  readonly captured: Captured[] = [];

  override get(sql: string): Database.Statement {
    const stmt = super.get(sql);
    const captured = this.captured;
    return new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        if (typeof prop === 'string' && RUNNERS.has(prop)) {
          return (...args: unknown[]) => {
            captured.push({ sql, args });
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        // better-sqlite3's native methods check their receiver, so they must see the real statement.
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  }
}

/** Runs `plan` through the store's search code on `db` and returns every statement it executed. */
export function captureSql(db: Database.Database, plan: SearchPlan): Captured[] {
  const statements = new RecordingStatements(db);
  new SqliteSearch(statements).run(plan);
  return statements.captured;
}

/**
 * Lines that read a whole table or index, or a part that grows with the data rather than with
 * the answer. json_each is the bound list of types or organisations (a handful of values) and a
 * constant row is free, so neither counts. A SEARCH on resources by type alone is flagged too:
 * for Observation that is more than half the table; so is a SEARCH of an index table by the
 * parameter alone, or by a date bound on one side only.
 */
export function flagOf(detail: string): string | undefined {
  // A subquery co-routine is scanned as it is produced; what it reads is flagged on its own lines.
  if (/^SCAN (json_each|CONSTANT ROW|\(subquery-\d+\))/.test(detail)) return undefined;
  if (/^SCAN /.test(detail)) return detail.includes('INDEX') ? 'full index scan' : 'full table scan';
  if (/^SEARCH \w+ USING (COVERING )?INDEX (sqlite_autoindex_resources_1|resources_by_type_time) \(type=\?\)$/.test(detail)) {
    return 'range over every resource of the type';
  }
  // Flagged even where it is right: a `_has` search (or visibility over more than PROBE_CAP
  // candidates) lists the references of every matching source by reading the parameter's covering
  // index once, which measured faster than seeking each source's references (predicate-sql.ts,
  // hasListSql). The bench scenarios never take that path; a line here means a search did.
  if (/^SEARCH \w+ USING (COVERING )?INDEX idx_\w+ \(param=\?\)$/.test(detail)) return 'every index row of the parameter';
  if (/^SEARCH \w+ USING (COVERING )?INDEX idx_date_\w+ \(param=\? AND (low|high)[<>]=?\?\)$/.test(detail)) return 'open-ended date range: one whole side of the index';
  if (/USE TEMP B-TREE FOR ORDER BY/.test(detail)) return 'sorts all matches before paging';
  // With one organisation holding most clients this lists nearly every client, for every query.
  if (/^SEARCH enrolments USING COVERING INDEX enrolments_by_org \(org=\?\)$/.test(detail)) return 'lists every client enrolled at the organisation';
  return undefined;
}

export function explain(db: Database.Database, captured: Captured): Explained {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${captured.sql}`).all(...captured.args) as { id: number; parent: number; detail: string }[];
  const depth = new Map<number, number>([[0, -1]]);
  const lines = rows.map((r) => {
    const d = (depth.get(r.parent) ?? -1) + 1;
    depth.set(r.id, d);
    const flag = flagOf(r.detail);
    return { depth: d, detail: r.detail, ...(flag ? { flag } : {}) };
  });
  return { ...captured, lines };
}

/** One statement per distinct SQL text (includes repeat per target type with the same text). */
export function explainAll(db: Database.Database, captured: Captured[]): Explained[] {
  const seen = new Set<string>();
  const out: Explained[] = [];
  for (const c of captured) {
    if (seen.has(c.sql)) continue;
    seen.add(c.sql);
    out.push(explain(db, c));
  }
  return out;
}

export function renderPlan(e: Explained): string {
  return e.lines.map((l) => `${'  '.repeat(l.depth)}${l.detail}${l.flag ? `   <-- ${l.flag}` : ''}`).join('\n');
}

/** Collapses whitespace so generated SQL reads on a few lines in the report. */
export function compactSql(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim();
}
