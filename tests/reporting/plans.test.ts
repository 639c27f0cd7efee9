/**
 * How the embedded store evaluates a report (src/store/sqlite/report-sql.ts), checked through the
 * plans SQLite chooses: records are dated by a (rid, param) probe of the date index, never by a
 * scan of a whole date parameter, and conditions on indexed codes filter rids before any record
 * is read. Also: a record that two sources of one kind both match is one event, and an evaluation
 * runs with the connection's page caches lowered (memory) and gives them back as they were.
 */
import Database from 'better-sqlite3';
import { INDICATORS } from '../../src/reporting/indicators';
import { HIV_TEST, STRATA } from '../../src/reporting/codes';
import type { EventKind, PopulationQuery, ReportScope } from '../../src/reporting/query';
import {
  REPORT_MAIN_CACHE_KIB,
  REPORT_TEMP_CACHE_KIB,
  type StatementPlan,
  countAll,
  explainAll,
  sqliteIndicatorQueries,
  withReportCaches,
} from '../../src/store/sqlite/report-run';
import { EXPECTED } from './expected';
import { fixtureDatabase } from './load';

const YEAR: ReportScope = { periodStart: '2024-01-01', periodEnd: '2024-12-31' };
let fixture: Awaited<ReturnType<typeof fixtureDatabase>>;
let db: Database.Database;
let plans: StatementPlan[];

beforeAll(async () => {
  fixture = await fixtureDatabase('programme');
  db = fixture.db;
  plans = explainAll(db, INDICATORS.map((i) => i.population), YEAR, STRATA);
});
afterAll(() => fixture.close());

const events = (): StatementPlan[] => plans.filter((p) => p.name.startsWith('events '));

test('the plans cover every statement of the pass, and the pass leaves nothing behind', () => {
  expect(events().length).toBeGreaterThan(10);
  expect(plans.filter((p) => p.name.startsWith('cells '))).toHaveLength(INDICATORS.length);
  expect(db.prepare("SELECT name FROM sqlite_temp_master WHERE type = 'table'").all()).toEqual([]);
  expect(db.inTransaction).toBe(false);
});

test('each event record is dated by a (rid, param) probe, never by a scan of the whole date parameter', () => {
  // Every source dated by a search parameter (all but SupplyDelivery, dated from its JSON).
  const dated = events().filter((p) => !p.name.endsWith(' SupplyDelivery'));
  expect(dated.length).toBeGreaterThan(0);
  for (const p of dated) {
    expect([p.name, p.plan.some((d) => /SEARCH d USING INDEX idx_date_rid \(rid=\? AND param=\?\)/.test(d))]).toEqual([p.name, true]);
  }
  for (const p of events()) expect([p.name, p.plan.filter((d) => /idx_date_low_rid/.test(d))]).toEqual([p.name, []]);
});

test("HIV.IND.27's supply end is a (rid, param) probe of the date index, not a scan of the parameter per client", () => {
  const cells = plans.find((p) => p.name === `cells ${INDICATORS.findIndex((i) => i.id === 'HIV.IND.27')} art-start`)!;
  expect(cells.plan.some((d) => /SEARCH d USING INDEX idx_date_rid \(rid=\? AND param=\?\)/.test(d))).toBe(true);
  expect(cells.plan.filter((d) => /idx_date_high|idx_date_low_rid|SCAN d\b/.test(d))).toEqual([]);
});

test('records are read in rid order: every event statement scans a table of rids and looks each record up by rowid', () => {
  for (const p of events()) {
    // From a table (SCAN k), not a DISTINCT … ORDER BY subquery (CO-ROUTINE k), whose temporary
    // B-tree and the record lookups evicted each other's pages (a page read per record).
    expect([p.name, p.plan[0] === 'CO-ROUTINE x' || p.plan[0] === 'MATERIALIZE x', p.plan.includes('SCAN k'), p.plan.some((d) => /CO-ROUTINE k\b/.test(d))]).toEqual([p.name, true, true, false]);
    expect([p.name, p.plan.some((d) => /SEARCH r USING INTEGER PRIMARY KEY \(rowid=\?\)/.test(d))]).toEqual([p.name, true]);
    expect([p.name, p.plan.filter((d) => /^SCAN r\b/.test(d))]).toEqual([p.name, []]);
  }
});

test('the sources of one type dated by a parameter, with conditions on indexed codes only, are read in one sweep', () => {
  const named = (type: string) => events().filter((p) => p.name.endsWith(` ${type}`) || p.name.startsWith(`events ${type} (`));
  // A PEP course completion counts when its valueBoolean is true: a condition on the record's JSON.
  const observations = named('Observation');
  expect(observations.map((p) => p.name.replace(/ \(.*/, ''))).toEqual(['events pep-completed Observation', 'events Observation']);
  // Every other Observation kind the indicators read is in the sweep (HIV tests, viral loads, the key population…).
  for (const id of ['hiv-test', 'viral-load', 'key-population', 'tb-screen']) expect(observations[1]!.name).toContain(id);
  expect(named('MedicationRequest').filter((p) => p.name.startsWith('events MedicationRequest ('))).toHaveLength(1);
});

test("clients' age band and gender are built from the Patient index alone, without reading a Patient row", () => {
  const clients = plans.find((p) => p.name === 'clients')!;
  expect(clients.plan.some((d) => /SEARCH p USING COVERING INDEX sqlite_autoindex_resources_1 \(type=\?\)/.test(d))).toBe(true);
});

test('conditions on indexed codes never drive a probe of the code index per member of their set', () => {
  // A pushed-down `rid IN (set)` used as an index key shows as `… AND rid=?` on the code index.
  const rids = plans.filter((p) => p.name.startsWith('event rids '));
  expect(rids.length).toBeGreaterThan(3);
  for (const p of [...events(), ...rids]) expect([p.name, p.plan.filter((d) => /idx_token_code_rid \(.*rid=\?\)/.test(d))]).toEqual([p.name, []]);
});

test('a record matching two sources of one kind counts as one event', async () => {
  const src = HIV_TEST.sources[0]!;
  const twice: EventKind = { id: 'hiv-test-twice', sources: [src, { ...src }] };
  const tests = (anchor: EventKind): PopulationQuery => ({ unit: 'event', anchor, anchorWindow: 'period' });
  const q = sqliteIndicatorQueries(db);
  const total = async (anchor: EventKind) => (await q.countCells(tests(anchor), YEAR, STRATA)).reduce((a, c) => a + c.population, 0);
  expect(await total(HIV_TEST)).toBe(EXPECTED['HIV.IND.19']!.total[0]);
  expect(await total(twice)).toBe(EXPECTED['HIV.IND.19']!.total[0]);
});

describe('page caches during an evaluation', () => {
  const caches = () => [db.pragma('cache_size', { simple: true }), db.pragma('temp.cache_size', { simple: true })];

  test('are lowered while it runs and restored after, also when it fails', () => {
    db.pragma('cache_size = -32000');
    db.pragma('temp.cache_size = -16000');
    expect(withReportCaches(db, caches)).toEqual([-REPORT_MAIN_CACHE_KIB, -REPORT_TEMP_CACHE_KIB]);
    expect(caches()).toEqual([-32000, -16000]);
    expect(() =>
      withReportCaches(db, () => {
        throw new Error('cut short');
      }),
    ).toThrow('cut short');
    expect(caches()).toEqual([-32000, -16000]);
  });

  test('are never raised: a connection set lower keeps its setting (pages or KiB)', () => {
    db.pragma('cache_size = 100'); // pages
    db.pragma('temp.cache_size = -500');
    expect(withReportCaches(db, caches)).toEqual([100, -500]);
    expect(caches()).toEqual([100, -500]);
    db.pragma('cache_size = -32000');
  });

  test('a whole report leaves the store connection\'s settings as they were', async () => {
    db.pragma('cache_size = -32000');
    db.pragma('temp.cache_size = -16000');
    await sqliteIndicatorQueries(db).countAllCells(INDICATORS.map((i) => i.population), YEAR, STRATA);
    expect(caches()).toEqual([-32000, -16000]);
  });
});

describe('the temporary database', () => {
  const freePages = () => db.pragma('temp.freelist_count', { simple: true }) as number;
  const queries = () => INDICATORS.map((i) => i.population);

  test('is deleted after an evaluation, so the next one writes a fresh file rather than recycled pages', () => {
    countAll(db, queries(), YEAR, STRATA);
    expect(freePages()).toBe(0);
    expect(db.pragma('temp.page_count', { simple: true })).toBe(0);
  });

  test('inside a caller\'s transaction it is kept, and the next evaluation outside one starts afresh', () => {
    db.exec('BEGIN');
    try {
      countAll(db, queries(), YEAR, STRATA);
      expect(freePages()).toBeGreaterThan(0);
    } finally {
      db.exec('COMMIT');
    }
    const alone = countAll(db, queries(), YEAR, STRATA);
    expect(freePages()).toBe(0);
    expect(alone.map((cells) => cells.reduce((a, c) => a + c.population, 0))).toEqual(INDICATORS.map((i) => EXPECTED[i.id]!.total[0]));
  });
});
