/**
 * The embedded store's audit log: an appended event is chained and journaled at once, and joins
 * the log (a version row and a few key rows; no resource row, no generic index rows) in batches,
 * before any read that could return it. Searches of AuditEvent run on the keys; files in the
 * earlier layout are upgraded at open.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '@medplum/fhirtypes';
import { type SqliteStore, openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { IndexWriter } from '../../src/store/sqlite/index-write';
import { createIndexer } from '../../src/search/indexer';
import { loadSearchRegistry } from '../../src/search/registry';
import { parseSearch } from '../../src/search/parse';
import { verifyAuditChain } from '../../src/audit/verify';
import { newTimeOrderedId } from '../../src/store/time-ordered-id';
import type { QueryPairs } from '../../src/fhir/context';

const registry = loadSearchRegistry();
const indexer = createIndexer(registry, 'http://localhost/fhir');
const dir = mkdtempSync(join(tmpdir(), 'linkcare-audit-log-'));
let n = 0;
const stores: SqliteStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(): { store: SqliteStore; file: string } {
  const file = join(dir, `j-${n++}.sqlite`);
  const store = openSqliteStore(file, { indexer });
  stores.push(store);
  return { store, file };
}

const event = (outcome: string, more: Partial<AuditEvent> = {}): AuditEvent => ({
  resourceType: 'AuditEvent',
  type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
  subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
  action: 'R',
  recorded: new Date().toISOString(),
  outcome: outcome as AuditEvent['outcome'],
  agent: [{ requestor: true, who: { identifier: { system: 'urn:users', value: 'user-1' } } }, { requestor: false, who: { reference: 'Organization/org-a' } }],
  source: { observer: { display: 'linkcare' } },
  ...more,
});
const at = (iso: string, outcome = '0', more: Partial<AuditEvent> = {}) => event(outcome, { recorded: iso, ...more });
const entity = (ref: string) => ({ entity: [{ what: { reference: ref } }] });

const plan = (type: string, query: QueryPairs) => parseSearch(registry, [type], query).plan;

function rowCount(file: string, sql: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('audit log (embedded store)', () => {
  it('appends a chain link and a journal row; the move writes a version row and key rows: no resource row, no generic index rows', async () => {
    const { store, file } = open();
    const v = await store.unitOfWork((tx) => tx.appendAudit(event('0', entity('Patient/p1')), 'org-a'));
    expect(v).toMatchObject({ type: 'AuditEvent', versionId: '1', custodian: 'org-a' });
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM audit_journal')).toBe(1);
    expect(rowCount(file, "SELECT COUNT(*) AS n FROM versions WHERE type = 'AuditEvent'")).toBe(0);
    await store.flushAudit();
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM audit_journal')).toBe(0);
    expect(rowCount(file, "SELECT COUNT(*) AS n FROM versions WHERE type = 'AuditEvent'")).toBe(1);
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM audit_chain')).toBe(1);
    expect(rowCount(file, "SELECT COUNT(*) AS n FROM resources WHERE type = 'AuditEvent'")).toBe(0);
    for (const t of ['idx_token', 'idx_ref', 'idx_date', 'idx_string']) expect(rowCount(file, `SELECT COUNT(*) AS n FROM ${t}`)).toBe(0);
    // outcome, type-less subtype/action, the user, the organisation, the entity and the client.
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM audit_keys')).toBeGreaterThanOrEqual(5);
  });

  it('gives the event its recorded instant as meta.lastUpdated', async () => {
    const { store } = open();
    const v = await store.unitOfWork((tx) => tx.appendAudit(at('2024-03-01T10:00:00+02:00'), 'org-a'));
    expect(v.lastUpdated).toBe('2024-03-01T08:00:00.000Z');
    expect((await store.read('AuditEvent', v.id))?.resource?.meta?.lastUpdated).toBe('2024-03-01T08:00:00.000Z');
  });

  it('reads, vreads and lists history of events, with the exact JSON the chain hashed', async () => {
    const { store } = open();
    const ids = await store.unitOfWork(async (tx) => [(await tx.appendAudit(event('0'), 'org-a')).id, (await tx.appendAudit(event('4'), 'org-a')).id]);
    expect((await store.read('AuditEvent', ids[0]!))?.resource).toMatchObject({ id: ids[0], outcome: '0', meta: { versionId: '1' } });
    expect(await store.vread('AuditEvent', ids[0]!, '1')).toBeDefined();
    expect(await store.read('AuditEvent', 'nobody')).toBeUndefined();
    expect((await store.history({ type: 'AuditEvent', count: 10 })).entries).toHaveLength(2);
    expect(await verifyAuditChain(store)).toEqual({ checked: 2, problems: [] });
  });

  it('applies visibility to history: the events held by the organisation only, by type and across types', async () => {
    const { store } = open();
    await store.unitOfWork(async (tx) => {
      await tx.appendAudit(event('0'), 'org-a');
      await tx.appendAudit(event('0'), 'org-b');
    });
    const visibility = [{ kind: 'and' as const, all: [{ kind: 'type' as const, types: ['AuditEvent'] }, { kind: 'custodian' as const, custodians: ['org-b'] }] }];
    expect((await store.history({ type: 'AuditEvent', count: 10, visibility })).entries.map((e) => e.custodian)).toEqual(['org-b']);
    expect((await store.history({ count: 10, visibility })).entries.map((e) => e.custodian)).toEqual(['org-b']);
  });

  describe('search', () => {
    const ids: Record<string, string> = {};
    let store: SqliteStore;
    beforeAll(async () => {
      store = open().store;
      await store.unitOfWork(async (tx) => {
        ids.jan = (await tx.appendAudit(at('2024-01-10T12:00:00Z', '0', entity('Patient/p1')), 'org-a')).id;
        ids.feb = (await tx.appendAudit(at('2024-02-10T12:00:00Z', '4', entity('Observation/o1')), 'org-a')).id;
        ids.mar = (await tx.appendAudit(at('2024-03-10T12:00:00Z', '8', entity('Patient/p2')), 'org-b')).id;
        ids.apr = (await tx.appendAudit(
          at('2024-04-10T12:00:00Z', '0', { agent: [{ requestor: true, who: { identifier: { system: 'urn:users', value: 'user-2' } } }], action: 'C' }),
          'org-a',
        )).id;
      });
    });
    const found = async (query: QueryPairs) => (await store.search(plan('AuditEvent', query))).matches.map((m) => m.id);

    it.each<[string, QueryPairs, string[]]>([
      ['everything, in recorded order', [], ['jan', 'feb', 'mar', 'apr']],
      ['outcome', [['outcome', '4']], ['feb']],
      ['outcome, two values', [['outcome', '4,8']], ['feb', 'mar']],
      ['outcome:not', [['outcome:not', '0']], ['feb', 'mar']],
      ['action with its system unknown', [['action', 'C']], ['apr']],
      ['subtype with system', [['subtype', 'http://hl7.org/fhir/restful-interaction|read']], ['jan', 'feb', 'mar', 'apr']],
      ['subtype, wrong system', [['subtype', 'urn:other|read']], []],
      ['entity by type and id', [['entity', 'Patient/p1']], ['jan']],
      ['entity by id', [['entity', 'o1']], ['feb']],
      ['entity of another type', [['entity', 'Observation/p1']], []],
      ['agent by reference', [['agent', 'Organization/org-a']], ['jan', 'feb', 'mar']],
      ['agent by identifier', [['agent:identifier', 'urn:users|user-2']], ['apr']],
      ['patient', [['patient', 'Patient/p2']], ['mar']],
      ['date ge', [['date', 'ge2024-03-01']], ['mar', 'apr']],
      ['date range', [['date', 'ge2024-02'], ['date', 'lt2024-04']], ['feb', 'mar']],
      ['date eq a day', [['date', '2024-01-10']], ['jan']],
      ['date ne', [['date', 'ne2024-01-10']], ['feb', 'mar', 'apr']],
      ['_lastUpdated', [['_lastUpdated', 'lt2024-02-01']], ['jan']],
      ['_id', [['_id', 'x']], []],
      ['two parameters together', [['outcome', '0'], ['entity', 'Patient/p1']], ['jan']],
      ['entity:missing', [['entity:missing', 'true']], ['apr']],
      ['entity:missing=false', [['entity:missing', 'false']], ['jan', 'feb', 'mar']],
      ['subtype by system alone', [['subtype', 'http://hl7.org/fhir/restful-interaction|']], ['jan', 'feb', 'mar', 'apr']],
      ['action by another system alone', [['action', 'urn:other|']], []],
      ['sorted by -date', [['_sort', '-date']], ['apr', 'mar', 'feb', 'jan']],
      ['sorted by _id', [['_sort', '_id']], ['jan', 'feb', 'mar', 'apr']],
    ])('%s', async (_name, query, expected) => {
      expect(await found(query)).toEqual(expected.map((k) => ids[k] ?? k));
    });

    it('pages with a cursor in either direction, with the total asked for', async () => {
      for (const sort of ['date', '-date', '-date,_id']) {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const p = { ...plan('AuditEvent', [['_sort', sort], ['_total', 'accurate']]), count: 1, ...(cursor ? { cursor } : {}) };
          const page = await store.search(p);
          expect(page.total).toBe(4);
          seen.push(...page.matches.map((m) => m.id));
          cursor = page.nextCursor;
        } while (cursor);
        const order = ['jan', 'feb', 'mar', 'apr'].map((k) => ids[k]!);
        expect(seen).toEqual(sort === 'date' ? order : order.reverse());
      }
    });

    it('keeps to the visibility it is given: held by the organisation', async () => {
      const p = plan('AuditEvent', []);
      p.visibility = [{ kind: 'or', any: [{ kind: 'type', types: ['Organization'] }, { kind: 'and', all: [{ kind: 'type', types: ['AuditEvent'] }, { kind: 'custodian', custodians: ['org-b'] }] }] }];
      expect((await store.search(p)).matches.map((m) => m.id)).toEqual([ids.mar]);
      p.visibility = [{ kind: 'patient', patients: ['p1'] }];
      expect((await store.search(p)).matches).toEqual([]);
    });

    it('counts only, when asked', async () => {
      const p = { ...plan('AuditEvent', [['outcome', '0']]), countOnly: true };
      expect(await store.search(p)).toEqual({ matches: [], included: [], total: 2 });
    });
  });

  it('moves the journal on a read of AuditEvents only: other searches leave it alone', async () => {
    const { store, file } = open();
    await store.unitOfWork((tx) => tx.appendAudit(event('0'), 'org-a'));
    await store.search(plan('Patient', [['gender', 'female']]));
    await store.read('Patient', 'nobody');
    await store.search({ types: [], where: [], sort: [], count: 10, total: 'none' });
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM audit_journal')).toBe(1);
    await store.read('AuditEvent', 'nobody');
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM audit_journal')).toBe(0);
  });

  it('moves the journal in the background, and on close', async () => {
    const { store, file } = open();
    await store.unitOfWork((tx) => tx.appendAudit(event('0'), 'org-a'));
    const deadline = Date.now() + 5000;
    while (rowCount(file, 'SELECT COUNT(*) AS n FROM audit_journal') > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(rowCount(file, "SELECT COUNT(*) AS n FROM versions WHERE type = 'AuditEvent'")).toBe(1);

    const other = open();
    await other.store.unitOfWork((tx) => tx.appendAudit(event('0'), 'org-a'));
    await other.store.close();
    expect(rowCount(other.file, 'SELECT COUNT(*) AS n FROM audit_journal')).toBe(0);
    expect(rowCount(other.file, "SELECT COUNT(*) AS n FROM versions WHERE type = 'AuditEvent'")).toBe(1);
  });

  it.each([
    ['journal row, before the move', false, "UPDATE audit_journal SET content = replace(content, '\"outcome\":\"4\"', '\"outcome\":\"0\"') WHERE seq = 2"],
    [
      'event row of the log',
      true,
      "UPDATE versions SET content = replace(content, '\"outcome\":\"4\"', '\"outcome\":\"0\"') WHERE type = 'AuditEvent' AND content LIKE '%\"outcome\":\"4\"%'",
    ],
  ])('verifies the chain, and detects a changed %s', async (_what, moved, tamper) => {
    const { store, file } = open();
    await store.unitOfWork(async (tx) => {
      for (const o of ['0', '4', '8']) await tx.appendAudit(event(o), 'org-a');
    });
    if (moved) await store.flushAudit();
    expect(await verifyAuditChain(store)).toEqual({ checked: 3, problems: [] });
    const db = new Database(file);
    db.prepare(tamper).run();
    db.close();
    const report = await verifyAuditChain(store);
    expect(report.problems).toEqual([expect.objectContaining({ seq: 2, problem: 'content changed' })]);
  });

  it('rolls back an event with the unit of work that wrote it', async () => {
    const { store, file } = open();
    await expect(
      store.unitOfWork(async (tx) => {
        await tx.appendAudit(event('0'), 'org-a');
        throw new Error('write failed');
      }),
    ).rejects.toThrow('write failed');
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM audit_journal')).toBe(0);
    expect(await verifyAuditChain(store)).toEqual({ checked: 0, problems: [] });
  });

  it('rebuilds the key rows on reindex', async () => {
    const { store, file } = open();
    const id = (await store.unitOfWork((tx) => tx.appendAudit(event('4'), 'org-a'))).id;
    await store.flushAudit();
    const db = new Database(file);
    db.prepare('DELETE FROM audit_keys').run();
    db.close();
    expect((await store.search(plan('AuditEvent', [['outcome', '4']]))).matches).toEqual([]);
    await store.reindex();
    expect((await store.search(plan('AuditEvent', [['outcome', '4']]))).matches.map((m) => m.id)).toEqual([id]);
  });

  it('finds events whose keys lie in different buckets of version seqs', async () => {
    const { store, file } = open();
    const first = (await store.unitOfWork((tx) => tx.appendAudit(event('4', entity('Patient/p1')), 'org-a'))).id;
    await store.flushAudit();
    // Push the version sequence past the next bucket (2^13 seqs) with filler versions.
    const db = new Database(file);
    db.exec(`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 9000)
      INSERT INTO versions (type, id, version, last_updated, deleted, method) SELECT 'Basic', 'filler-' || x, 1, '2020-01-01T00:00:00.000Z', 0, 'POST' FROM n`);
    db.close();
    const second = (await store.unitOfWork((tx) => tx.appendAudit(event('4', entity('Patient/p1')), 'org-a'))).id;
    await store.flushAudit();
    expect(rowCount(file, 'SELECT COUNT(DISTINCT bucket) AS n FROM audit_keys')).toBe(2);
    for (const query of [[['entity', 'Patient/p1']], [['outcome', '4']], [['outcome:not', '0']]] as QueryPairs[]) {
      expect((await store.search(plan('AuditEvent', query))).matches.map((m) => m.id)).toEqual([first, second]);
    }
  });

  it('reindexes a batch without taking the other events\' keys away', async () => {
    const { store } = open();
    const ids = await store.unitOfWork(async (tx) => [(await tx.appendAudit(event('4'), 'org-a')).id, (await tx.appendAudit(event('4'), 'org-a')).id]);
    await store.flushAudit();
    await store.unitOfWork(async (tx) => (tx as unknown as { reindexAuditAfter(after: number, limit: number): unknown }).reindexAuditAfter(0, 1));
    expect((await store.search(plan('AuditEvent', [['outcome', '4']]))).matches.map((m) => m.id)).toEqual(ids);
  });

  it('goes on with a rebuild of the key rows that was cut short', async () => {
    const { store, file } = open();
    const id = (await store.unitOfWork((tx) => tx.appendAudit(event('4'), 'org-a'))).id;
    await store.close();
    const db = new Database(file);
    db.exec("DELETE FROM audit_keys; INSERT INTO meta (key, value) VALUES ('audit_keys_rebuilt', '0')");
    db.close();
    const reopened = openSqliteStore(file, { indexer });
    stores.push(reopened);
    expect((await reopened.search(plan('AuditEvent', [['outcome', '4']]))).matches.map((m) => m.id)).toEqual([id]);
    expect(rowCount(file, "SELECT COUNT(*) AS n FROM meta WHERE key = 'audit_keys_rebuilt'")).toBe(0);
  });

  it('rebuilds key rows written before they had buckets', async () => {
    const { store, file } = open();
    const id = (await store.unitOfWork((tx) => tx.appendAudit(event('4'), 'org-a'))).id;
    await store.close();
    const db = new Database(file);
    db.exec('DROP TABLE audit_keys; CREATE TABLE audit_keys (param TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (param, a, b, seq)) WITHOUT ROWID');
    db.close();
    const reopened = openSqliteStore(file, { indexer });
    stores.push(reopened);
    expect((await reopened.search(plan('AuditEvent', [['outcome', '4']]))).matches.map((m) => m.id)).toEqual([id]);
  });

  it('upgrades a file in the earlier layout, where events were stored as resources with index rows', async () => {
    const { store, file } = open();
    const kept = await store.unitOfWork((tx) => tx.appendAudit(event('4'), 'org-a'));
    await store.close();
    // Put the event back as the earlier layout stored it (a resource row and index rows), beside
    // one still waiting in the journal.
    const db = new Database(file);
    const seq = (db.prepare("SELECT seq FROM versions WHERE type = 'AuditEvent'").get() as { seq: number }).seq;
    const rid = Number(
      db.prepare("INSERT INTO resources (type, id, version, seq, last_updated, deleted, custodian) VALUES ('AuditEvent', ?, 1, ?, ?, 0, 'org-a')").run(kept.id, seq, kept.lastUpdated)
        .lastInsertRowid,
    );
    new IndexWriter(db).write(rid, 'AuditEvent', indexer(kept.resource!), true);
    db.prepare('DELETE FROM audit_keys').run();
    const journaled = { ...event('8'), id: 'journaled-1', meta: { versionId: '1', lastUpdated: '2024-05-01T00:00:00.000Z' } };
    db.prepare("INSERT INTO audit_journal VALUES (2, 'journaled-1', 'org-a', '2024-05-01T00:00:00.000Z', ?)").run(JSON.stringify(journaled));
    db.close();
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM idx_token')).toBeGreaterThan(0);

    const reopened = openSqliteStore(file, { indexer });
    stores.push(reopened);
    expect(rowCount(file, "SELECT COUNT(*) AS n FROM resources WHERE type = 'AuditEvent'")).toBe(0);
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM idx_token')).toBe(0);
    expect((await reopened.search(plan('AuditEvent', [['outcome', '4,8']]))).matches.map((m) => m.id)).toEqual(['journaled-1', kept.id]);
    expect((await reopened.read('AuditEvent', 'journaled-1'))?.resource).toEqual(journaled);
  });
});

describe('AuditEvents are searched on their own', () => {
  it.each<[string, string[], QueryPairs]>([
    ['_has:AuditEvent', ['Patient'], [['_has:AuditEvent:patient:outcome', '0']]],
    ['revinclude of AuditEvents', ['Patient'], [['_revinclude', 'AuditEvent:entity']]],
    ['include from AuditEvent', ['AuditEvent'], [['_include', 'AuditEvent:entity']]],
    ['include of every AuditEvent reference', ['AuditEvent'], [['_include', 'AuditEvent:*']]],
    ['chain from AuditEvent', ['AuditEvent'], [['agent.name', 'x']]],
    ['typed chain to AuditEvent', ['Provenance'], [['target:AuditEvent.outcome', '0']]],
    ['AuditEvent among other types', ['AuditEvent', 'Organization'], []],
  ])('%s is refused', (_name, types, query) => {
    expect(() => parseSearch(registry, types, query)).toThrow(/searched on their own/);
  });

  it('an untyped chain leaves AuditEvent out of its targets', () => {
    const { plan: p } = parseSearch(registry, ['Provenance'], [['target._id', 'x']]);
    expect(JSON.stringify(p.where)).not.toContain('"targetType":"AuditEvent"');
  });
});

describe('newTimeOrderedId', () => {
  it('gives unique ids that sort in the order they were made, in the UUID version 7 layout', () => {
    const ids = Array.from({ length: 5000 }, () => newTimeOrderedId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids.slice(0, 10)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('stays increasing when the clock steps back', () => {
    const a = newTimeOrderedId(Date.now() + 60_000);
    const b = newTimeOrderedId(Date.now());
    expect(b > a).toBe(true);
  });
});
