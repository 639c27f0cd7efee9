/**
 * Date windows: date predicates read as one bounded range of idx_date (param, low, …), using the
 * extent of every range the store ever kept for the parameter (table param_span). The window may
 * only ever make a search faster: every result is compared with the same plan written so that no
 * window applies (each predicate wrapped in a one-element OR).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { createIndexer } from '../../src/search/indexer';
import { parseSearch } from '../../src/search/parse';
import type { SearchPlan } from '../../src/search/plan';
import type { Store } from '../../src/store/port';
import { SqliteSearch } from '../../src/store/sqlite/search-sql';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { Statements } from '../../src/store/sqlite/statements';
import { BASE, testRegistry } from '../helpers/app';
import { Rng } from '../../src/seed/prng';

const dir = mkdtempSync(join(tmpdir(), 'linkcare-window-'));
const file = join(dir, 'store.sqlite');
const open = () => openSqliteStore(file, { indexer: createIndexer(testRegistry(), BASE) });
let store: Store;

async function obs(id: string, effective: Record<string, unknown>): Promise<void> {
  const body = { resourceType: 'Observation', id, status: 'final', code: { text: 'test' }, ...effective } as Resource & { id: string };
  await store.unitOfWork(async (tx) => void (await tx.put(body, { custodian: 'org-a' })));
}

function plan(query: string): SearchPlan {
  const pairs = [...new URLSearchParams(query)] as [string, string][];
  const p = parseSearch(testRegistry(), ['Observation'], pairs, { baseUrl: BASE }).plan;
  return { ...p, count: 1000, total: 'accurate' };
}

async function ids(p: SearchPlan): Promise<string[]> {
  return (await store.search(p)).matches.map((m) => m.id).sort();
}

/** The ids with the window, after checking they equal those without it. */
async function matches(query: string): Promise<string[]> {
  const windowed = await ids(plan(query));
  const p = plan(query);
  const plain = await ids({ ...p, where: p.where.map((w) => ({ kind: 'or', any: [w] })) });
  expect(windowed).toEqual(plain);
  return windowed;
}

/** The WHERE the store builds for `query`, and SQLite's plan for it. */
function sqlOf(query: string): { sql: string; plan: string } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const where = new SqliteSearch(new Statements(db)).whereSql(plan(query));
    const rows = db.prepare(`EXPLAIN QUERY PLAN SELECT r.rid FROM resources r WHERE ${where.sql}`).all(...where.args) as { detail: string }[];
    return { sql: where.sql, plan: rows.map((r) => r.detail).join('\n') };
  } finally {
    db.close();
  }
}

const count = (s: string, part: string) => s.split(part).length - 1;

/** Seeded mulberry32 stream (src/seed/prng.ts), so runs reproduce. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** Queries of one or two date predicates with every prefix, some with two values. */
function randomQueries(seed: number, n: number): string[] {
  const rand = rng(seed);
  const prefixes = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', ''];
  const value = () => {
    const v = `2024-${String(1 + Math.floor(rand() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}`;
    const precise = rand() < 0.2 ? v.slice(0, 7) : v;
    return prefixes[Math.floor(rand() * prefixes.length)]! + precise;
  };
  const predicate = () => `date=${rand() < 0.2 ? `${value()},${value()}` : value()}`;
  return Array.from({ length: n }, () => (rand() < 0.7 ? `${predicate()}&${predicate()}` : predicate()));
}

beforeAll(async () => {
  store = open();
  await obs('d0220', { effectiveDateTime: '2024-02-20' });
  await obs('d0302', { effectiveDateTime: '2024-03-02' });
  await obs('d0305', { effectiveDateTime: '2024-03-05T10:00:00Z' });
  await obs('d0309', { effectiveDateTime: '2024-03-09' });
  await obs('long', { effectivePeriod: { start: '2024-01-01', end: '2024-06-30' } });
  // Invalid (start after end) but storable: its range runs backwards.
  await obs('inverted', { effectivePeriod: { start: '2024-05-10', end: '2024-05-01' } });
}, 30_000);
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('one value per resource: predicates share one bounded range', () => {
  test('date=geA&date=ltB is one idx_date subquery over a closed range of low', () => {
    const { sql, plan: p } = sqlOf('date=ge2024-03-01&date=lt2024-03-08');
    expect(count(sql, 'FROM idx_date')).toBe(1);
    expect(p).toMatch(/idx_date_low_rid \(param=\? AND low>\? AND low<\?\)/);
  });

  test('the window keeps a resource whose range is longer than the others', async () => {
    expect(await matches('date=ge2024-03-01&date=lt2024-03-08')).toEqual(['d0302', 'd0305', 'long']);
    expect(await matches('date=gt2024-06-01&date=le2024-06-30')).toEqual(['long']);
  });

  test('a range that runs backwards still matches exactly as stored', async () => {
    expect(await matches('date=ge2024-05-01&date=le2024-05-05')).toEqual(['inverted', 'long']);
  });

  test('eq on a day is bounded on both sides', async () => {
    expect(await matches('date=2024-03-05')).toEqual(['d0305']);
    expect(sqlOf('date=2024-03-05').plan).toMatch(/idx_date_low_rid \(param=\? AND low>\? AND low<\?\)/);
  });

  test('random prefixes and values give the same matches with and without the window', async () => {
    for (const q of randomQueries(7, 80)) await matches(q);
  });
});

describe('after an open-ended period and a resource with two values', () => {
  beforeAll(async () => {
    await obs('open', { effectivePeriod: { start: '2024-03-20' } });
    await obs('timing', { effectiveTiming: { event: ['2024-01-10', '2024-12-10'] } });
  });

  test('predicates are no longer folded into one row, so each may be met by a different value', async () => {
    expect(count(sqlOf('date=ge2024-03-01&date=lt2024-03-08').sql, 'FROM idx_date')).toBe(2);
    // 2024-12-10 is after the start, 2024-01-10 before the end (http://hl7.org/fhir/R4/search.html#combining).
    expect(await matches('date=ge2024-03-01&date=lt2024-03-08')).toEqual(['d0302', 'd0305', 'long', 'timing']);
  });

  test('an open-ended period is found inside any later window', async () => {
    expect(await matches('date=ge2024-04-01&date=lt2024-04-08')).toEqual(['long', 'open', 'timing']);
    expect(await matches('date=ge2031-01-01&date=lt2031-01-08')).toEqual(['open']);
  });

  test('a single eq predicate keeps its window (one row must satisfy it anyway)', async () => {
    expect(await matches('date=2024-12-10')).toEqual(['timing']);
    expect(sqlOf('date=2024-12-10').sql).toContain('.low >= ? AND');
  });

  test('random queries still agree', async () => {
    for (const q of randomQueries(11, 80)) await matches(q);
  });
});

describe('param_span upkeep', () => {
  const span = () => {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db.prepare("SELECT max_ms, min_ms, max_rows FROM param_span WHERE param = 'Observation.date'").get() as Record<string, number>;
    } finally {
      db.close();
    }
  };

  test('widened by writes and never narrowed by deletes', async () => {
    const before = span();
    expect(before.max_rows).toBe(2);
    expect(before.min_ms).toBeLessThan(0);
    expect(before.max_ms).toBeGreaterThan(1e14);
    await store.unitOfWork(async (tx) => void (await tx.remove('Observation', 'open')));
    expect(span()).toEqual(before);
    expect(await matches('date=ge2031-01-01&date=lt2031-01-08')).toEqual([]);
  });

  test('a store indexed before the table existed fills it from its rows at open', async () => {
    const before = span();
    await store.close();
    const db = new Database(file);
    db.exec("DELETE FROM param_span; DELETE FROM meta WHERE key = 'param_span'");
    db.close();
    store = open();
    // Rebuilt from current rows: the deleted open period no longer counts, the rest does.
    const after = span();
    expect(after.max_rows).toBe(2);
    expect(after.min_ms).toBe(before.min_ms);
    expect(after.max_ms).toBe(Date.parse('2024-07-01') - Date.parse('2024-01-01'));
    expect(await matches('date=ge2024-03-01&date=lt2024-03-08')).toEqual(['d0302', 'd0305', 'long', 'timing']);
  });
});
