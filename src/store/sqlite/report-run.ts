/**
 * Running an indicator evaluation on the embedded store (the SQL is built by report-sql.ts): one
 * read transaction, page caches lowered for the call, a fresh temporary database, phase timings,
 * and the IndicatorQueries the store hands to src/reporting.
 */
import type Database from 'better-sqlite3';
import type { Cell, IndicatorQueries, PopulationQuery, ReportScope, StrataSpec } from '../../reporting/query';
import { Evaluation } from './report-sql';
import type { Frag } from './report-frag';

/** Timings of the statements of the last evaluation, ms of wall and of CPU time (for bench/reporting.ts). */
export const lastPhases: { name: string; ms: number; cpuMs: number }[] = [];

/** Cell rows as the store returns them: the key population as its rank. */
type RawCell = Omit<Cell, 'keyPopulation'> & { kp: number | null };

/** One statement of an evaluation and the plan SQLite chose for it (EXPLAIN QUERY PLAN details). */
export interface StatementPlan {
  name: string;
  plan: string[];
}

/**
 * Evaluates like countAll and returns the plan of every statement, taken just before it runs (so
 * the temporary tables it reads exist): for tests, and to look at plans on a real data set.
 */
export function explainAll(db: Database.Database, queries: readonly PopulationQuery[], scope: ReportScope, spec: StrataSpec): StatementPlan[] {
  const plans: StatementPlan[] = [];
  countAll(db, queries, scope, spec, (name, sql) => {
    // A script of several statements (the CREATEs) has no single plan.
    if (sql.args.length === 0 && sql.sql.includes(';')) return;
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql.sql}`).all(...sql.args) as { detail: string }[];
    plans.push({ name, plan: rows.map((r) => r.detail) });
  });
  return plans;
}

/** KiB of page cache an evaluation may use on the main database (also what each of its sorts may hold). */
export const REPORT_MAIN_CACHE_KIB = 8000;
/** KiB of page cache for the evaluation's temporary tables (the rest spills to a temporary file). */
export const REPORT_TEMP_CACHE_KIB = 2000;

/** A cache_size setting (negative: KiB; positive: pages) in KiB. */
function cacheKib(db: Database.Database, setting: number): number {
  return setting < 0 ? -setting : (setting * (db.pragma('page_size', { simple: true }) as number)) / 1024;
}

/**
 * Runs `work` with the connection's page caches lowered for an evaluation, then restores them.
 * Memory, not speed, is the constraint (issue #9: RSS < 300 MB): SQLite lets each sort hold as
 * much memory as the main page cache is large, so with the store's 32 MB cache a report's sorts
 * and its temporary tables' cache added ≈ 75 MB to the process's peak at 100,000 clients (1.46M
 * resources); lowered, ≈ 15 MB, for the same CPU time (±2 %, interleaved runs). Pages cached for
 * other reads are dropped; they are read again as needed.
 * https://www.sqlite.org/pragma.html#pragma_cache_size
 */
export function withReportCaches<T>(db: Database.Database, work: () => T): T {
  const main = db.pragma('cache_size', { simple: true }) as number;
  const temp = db.pragma('temp.cache_size', { simple: true }) as number;
  // Never raised: a connection set lower than this keeps its setting.
  if (cacheKib(db, main) > REPORT_MAIN_CACHE_KIB) db.pragma(`cache_size = ${-REPORT_MAIN_CACHE_KIB}`);
  if (cacheKib(db, temp) > REPORT_TEMP_CACHE_KIB) db.pragma(`temp.cache_size = ${-REPORT_TEMP_CACHE_KIB}`);
  try {
    return work();
  } finally {
    db.pragma(`cache_size = ${main}`);
    db.pragma(`temp.cache_size = ${temp}`);
  }
}

/**
 * Deletes the connection's temporary database, file and all, by switching `temp_store` away and
 * back (https://www.sqlite.org/pragma.html#pragma_temp_store: a change drops every temporary
 * object). Dropping a report's tables leaves their pages on the temporary file's free list, and an
 * evaluation writing into those recycled pages took twice the CPU time of one on a fresh file
 * (1.46M resources: 17.6–19.8 s against 8.0 s). Only evaluations use temporary tables on the read
 * connection. Not possible inside a transaction: then the next evaluation recycles the pages.
 */
export function resetTempDatabase(db: Database.Database): void {
  if (db.inTransaction) return;
  const mode = db.pragma('temp_store', { simple: true }) as number;
  db.pragma(`temp_store = ${mode === 2 ? 1 : 2}`);
  db.pragma(`temp_store = ${mode}`);
}

/**
 * Evaluates every population of one scope in one pass, in one read transaction (its own, or the
 * caller's). Synchronous: at 100 000 clients it holds the event loop for a few seconds.
 * `before`, when given, sees each statement just before it runs (explainAll).
 */
export function countAll(
  db: Database.Database,
  queries: readonly PopulationQuery[],
  scope: ReportScope,
  spec: StrataSpec,
  before?: (name: string, sql: Frag) => void,
): RawCell[][] {
  if (!queries.length) return [];
  // Reset before the caches are lowered: a new temporary database starts with the default cache.
  resetTempDatabase(db);
  return withReportCaches(db, () => {
    try {
      return evaluateIn(db, new Evaluation(scope, spec, queries), queries, before);
    } finally {
      resetTempDatabase(db);
    }
  });
}

/** The statements of one evaluation, run in one read transaction (its own or the caller's). */
function evaluateIn(db: Database.Database, ev: Evaluation, queries: readonly PopulationQuery[], before?: (name: string, sql: Frag) => void): RawCell[][] {
  // Dropped before too, in case an earlier evaluation was cut short.
  const drop = (): void => {
    for (const t of ev.tables()) db.exec(`DROP TABLE IF EXISTS temp.${t}`);
  };
  const timed = <T>(name: string, run: () => T): T => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const out = run();
    const c = process.cpuUsage(c0);
    lastPhases.push({ name, ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 });
    return out;
  };
  lastPhases.length = 0;
  const own = !db.inTransaction;
  if (own) db.exec('BEGIN');
  try {
    drop();
    for (const { name, sql } of ev.steps()) {
      before?.(name, sql);
      timed(name, () => (sql.args.length ? db.prepare(sql.sql).run(...sql.args) : db.exec(sql.sql)));
    }
    return queries.map((q, i) => {
      const cells = ev.cells(q);
      before?.(`cells ${i} ${q.anchor.id}`, cells);
      return timed(`cells ${i} ${q.anchor.id}`, () => db.prepare(cells.sql).all(...cells.args) as RawCell[]);
    });
  } finally {
    try {
      drop();
    } finally {
      if (own) db.exec('COMMIT');
    }
  }
}

/** The indicator queries of one connection (the committed read connection). */
export function sqliteIndicatorQueries(db: Database.Database, kpValues?: readonly string[], beforeEvaluation: () => void = () => undefined): IndicatorQueries {
  const named = (rows: RawCell[], spec: StrataSpec): Cell[] => {
    const labels = kpValues ?? spec.keyPopulation.types.map((t) => t.value);
    return rows.map(({ kp, ...r }) => ({ ...r, keyPopulation: kp === null ? 'not-recorded' : (labels[kp] ?? 'not-recorded') }));
  };
  return {
    async countCells(q, scope, spec) {
      beforeEvaluation();
      return named(countAll(db, [q], scope, spec)[0]!, spec);
    },
    async countAllCells(qs, scope, spec) {
      beforeEvaluation();
      return countAll(db, qs, scope, spec).map((rows) => named(rows, spec));
    },
    async countResources() {
      return (db.prepare('SELECT COUNT(*) AS n FROM resources WHERE deleted = 0').get() as { n: number }).n;
    },
  };
}
