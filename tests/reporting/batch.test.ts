/**
 * The whole report is evaluated in one pass (shared events, anchors and strata): every indicator
 * must come out exactly as when it is evaluated alone, for any scope, and the pass must leave the
 * read connection as it found it.
 */
import Database from 'better-sqlite3';
import type { TestApp } from '../helpers/app';
import { INDICATORS } from '../../src/reporting/indicators';
import { STRATA } from '../../src/reporting/codes';
import { evaluateIndicator, evaluateIndicators } from '../../src/reporting/evaluate';
import type { ReportScope } from '../../src/reporting/query';
import { sqliteIndicatorQueries } from '../../src/store/sqlite/report-run';
import { EXPECTED } from './expected';
import { fixtureDatabase, startFixtureApp } from './load';

const YEAR: ReportScope = { periodStart: '2024-01-01', periodEnd: '2024-12-31' };
let t: TestApp;

beforeAll(async () => {
  t = await startFixtureApp('programme');
});
afterAll(() => t.close());

const SCOPES: [string, ReportScope][] = [
  ['the year', YEAR],
  ["one organisation's year", { ...YEAR, custodian: 'org-kp' }],
  ['a quarter', { periodStart: '2024-01-01', periodEnd: '2024-03-31' }],
  ['a single day', { periodStart: '2024-03-01', periodEnd: '2024-03-01' }],
];

test.each(SCOPES)('every indicator of the whole report equals the indicator alone: %s', async (_name, scope) => {
  const q = t.store.reports!();
  const options = { suppress: false, threshold: 4 };
  const all = await evaluateIndicators(q, INDICATORS, scope, options);
  expect(all.map((r) => r.indicator.id)).toEqual(INDICATORS.map((i) => i.id));
  for (const [i, indicator] of INDICATORS.entries()) {
    const alone = await evaluateIndicator(q, indicator, scope, options);
    expect([indicator.id, all[i]!.total, all[i]!.rows]).toEqual([indicator.id, alone.total, alone.rows]);
  }
});

test('the whole report matches the hand counts, suppressed alike for release', async () => {
  const q = t.store.reports!();
  const all = await evaluateIndicators(q, INDICATORS, YEAR, { suppress: false, threshold: 4 });
  for (const r of all) {
    const total = [r.total.population, r.total.numerator].map((f) => ('count' in f ? f.count : NaN));
    expect([r.indicator.id, total]).toEqual([r.indicator.id, EXPECTED[r.indicator.id]!.total]);
  }
  const masked = await evaluateIndicators(q, INDICATORS, YEAR, { suppress: true, threshold: 4 });
  for (const [i, indicator] of INDICATORS.entries()) {
    expect(masked[i]).toEqual(await evaluateIndicator(q, indicator, YEAR, { suppress: true, threshold: 4 }));
  }
});

test('an empty list of populations is answered without touching the store', async () => {
  expect(await t.store.reports!().countAllCells([], YEAR, STRATA)).toEqual([]);
});

describe('on its own read connection', () => {
  let fixture: Awaited<ReturnType<typeof fixtureDatabase>>;
  let db: Database.Database;

  beforeAll(async () => {
    fixture = await fixtureDatabase('programme');
    db = fixture.db;
  });
  afterAll(() => fixture.close());

  const tempTables = (): string[] => (db.prepare("SELECT name FROM sqlite_temp_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);

  test('leaves no temporary tables and no open transaction behind', async () => {
    const cells = await sqliteIndicatorQueries(db).countAllCells(INDICATORS.map((i) => i.population), YEAR, STRATA);
    expect(cells).toHaveLength(INDICATORS.length);
    expect(tempTables()).toEqual([]);
    expect(db.inTransaction).toBe(false);
  });

  test('inside a read transaction the caller opened, it keeps that transaction open', async () => {
    db.exec('BEGIN');
    try {
      const [cells] = await sqliteIndicatorQueries(db).countAllCells([INDICATORS[0]!.population], YEAR, STRATA);
      expect(cells!.reduce((a, c) => a + c.population, 0)).toBe(EXPECTED[INDICATORS[0]!.id]!.total[0]);
      expect(db.inTransaction).toBe(true);
      expect(tempTables()).toEqual([]);
    } finally {
      db.exec('COMMIT');
    }
  });

  test('lets the store free memory before each evaluation (the write connection\'s page cache, in the store)', async () => {
    const calls: string[] = [];
    const queries = sqliteIndicatorQueries(db, undefined, () => calls.push(`before, in transaction: ${db.inTransaction}`));
    await queries.countAllCells([INDICATORS[0]!.population], YEAR, STRATA);
    await queries.countCells(INDICATORS[1]!.population, YEAR, STRATA);
    expect(calls).toEqual(['before, in transaction: false', 'before, in transaction: false']);
  });

  test('tables left by an evaluation cut short do not stop the next one', async () => {
    db.exec('CREATE TEMP TABLE rpt_ev (x)');
    const [cells] = await sqliteIndicatorQueries(db).countAllCells([INDICATORS[0]!.population], YEAR, STRATA);
    expect(cells!.reduce((a, c) => a + c.population, 0)).toBe(EXPECTED[INDICATORS[0]!.id]!.total[0]);
    expect(tempTables()).toEqual([]);
  });
});
