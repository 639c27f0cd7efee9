/**
 * The embedded store's audit journal: an appended event is chained at once, stored as a searchable
 * AuditEvent resource later (in batches), and every read that could return it waits for that.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '@medplum/fhirtypes';
import { type SqliteStore, openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { planReachesAuditEvents } from '../../src/store/sqlite/audit-journal';
import { createIndexer } from '../../src/search/indexer';
import { loadSearchRegistry } from '../../src/search/registry';
import { parseSearch } from '../../src/search/parse';
import { verifyAuditChain } from '../../src/audit/verify';
import { newTimeOrderedId } from '../../src/store/time-ordered-id';
import type { QueryPairs } from '../../src/fhir/context';

const registry = loadSearchRegistry();
const indexer = createIndexer(registry, 'http://localhost/fhir');
const dir = mkdtempSync(join(tmpdir(), 'linkcare-journal-'));
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

const event = (outcome: string): AuditEvent => ({
  resourceType: 'AuditEvent',
  type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
  action: 'R',
  recorded: new Date().toISOString(),
  outcome: outcome as AuditEvent['outcome'],
  agent: [{ requestor: true, who: { identifier: { value: 'user-1' } } }],
  source: { observer: { display: 'linkcare' } },
});

const plan = (type: string, query: QueryPairs) => parseSearch(registry, [type], query).plan;

function rowCount(file: string, sql: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('audit journal (embedded store)', () => {
  it('writes an appended event to the chain and the journal, not yet to the resource tables', async () => {
    const { store, file } = open();
    const v = await store.unitOfWork((tx) => tx.appendAudit(event('0'), 'org-a'));
    expect(v).toMatchObject({ type: 'AuditEvent', versionId: '1', custodian: 'org-a' });
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM audit_journal')).toBe(1);
    expect(rowCount(file, "SELECT COUNT(*) AS n FROM resources WHERE type = 'AuditEvent'")).toBe(0);
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM audit_chain')).toBe(1);
  });

  it('finds journaled events by search, read, vread and history, with the exact JSON the chain hashed', async () => {
    const { store, file } = open();
    const ids = await store.unitOfWork(async (tx) => [
      (await tx.appendAudit(event('0'), 'org-a')).id,
      (await tx.appendAudit(event('4'), 'org-a')).id,
    ]);
    const found = await store.search(plan('AuditEvent', [['outcome', '4']]));
    expect(found.matches.map((e) => e.id)).toEqual([ids[1]]);
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM audit_journal')).toBe(0);
    expect((await store.read('AuditEvent', ids[0]!))?.resource).toMatchObject({ id: ids[0], outcome: '0', meta: { versionId: '1' } });
    expect(await store.vread('AuditEvent', ids[0]!, '1')).toBeDefined();
    expect((await store.history({ type: 'AuditEvent', count: 10 })).entries).toHaveLength(2);
    const report = await verifyAuditChain(store);
    expect(report).toEqual({ checked: 2, problems: [] });
  });

  it('moves the journal on a read of AuditEvents only: other searches leave it alone', async () => {
    const { store, file } = open();
    await store.unitOfWork((tx) => tx.appendAudit(event('0'), 'org-a'));
    await store.search(plan('Patient', [['gender', 'female']]));
    await store.read('Patient', 'nobody');
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM audit_journal')).toBe(1);
    await store.read('AuditEvent', 'nobody');
    expect(rowCount(file, 'SELECT COUNT(*) AS n FROM audit_journal')).toBe(0);
  });

  it('verifies the chain while events are still in the journal, and detects a changed journal row', async () => {
    const { store, file } = open();
    await store.unitOfWork(async (tx) => {
      for (const o of ['0', '4', '8']) await tx.appendAudit(event(o), 'org-a');
    });
    expect(await verifyAuditChain(store)).toEqual({ checked: 3, problems: [] });
    const db = new Database(file);
    db.prepare("UPDATE audit_journal SET content = replace(content, '\"outcome\":\"4\"', '\"outcome\":\"0\"') WHERE seq = 2").run();
    db.close();
    const report = await verifyAuditChain(store);
    expect(report.problems).toEqual([expect.objectContaining({ seq: 2, problem: 'content changed' })]);
  });

  it('moves the journal in the background, and on close', async () => {
    const { store, file } = open();
    await store.unitOfWork((tx) => tx.appendAudit(event('0'), 'org-a'));
    const deadline = Date.now() + 5000;
    while (rowCount(file, 'SELECT COUNT(*) AS n FROM audit_journal') > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(rowCount(file, "SELECT COUNT(*) AS n FROM resources WHERE type = 'AuditEvent'")).toBe(1);

    const other = open();
    await other.store.unitOfWork((tx) => tx.appendAudit(event('0'), 'org-a'));
    await other.store.close();
    expect(rowCount(other.file, 'SELECT COUNT(*) AS n FROM audit_journal')).toBe(0);
    expect(rowCount(other.file, "SELECT COUNT(*) AS n FROM resources WHERE type = 'AuditEvent'")).toBe(1);
  });

  it('rolls back a journal row with the unit of work that wrote it', async () => {
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
});

describe('planReachesAuditEvents', () => {
  it.each<[string, string[], QueryPairs, boolean]>([
    ['AuditEvent search', ['AuditEvent'], [], true],
    ['Patient search', ['Patient'], [['gender', 'female']], false],
    ['_has:AuditEvent', ['Patient'], [['_has:AuditEvent:patient:outcome', '0']], true],
    ['revinclude of AuditEvents', ['Patient'], [['_revinclude', 'AuditEvent:entity']], true],
    ['revinclude *', ['Patient'], [['_revinclude', '*']], true],
    ['revinclude of Observations', ['Patient'], [['_revinclude', 'Observation:subject']], false],
    ['include with a target type', ['Observation'], [['_include', 'Observation:subject:Patient']], false],
    ['include of any target', ['Observation'], [['_include', 'Observation:subject']], true],
  ])('%s', (_name, types, query, expected) => {
    expect(planReachesAuditEvents(parseSearch(registry, types, query).plan)).toBe(expected);
  });

  it('a system search (no type) reaches them', () => {
    expect(planReachesAuditEvents({ types: [], where: [], sort: [], count: 10, total: 'none' })).toBe(true);
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
