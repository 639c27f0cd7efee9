/** `npm run migrate` logic (SQLite → SQLite here; the MongoDB endpoints share the interface) and `npm run backup`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { openSqliteMigration } from '../../src/store/sqlite/export-import';
import { MigrationInterrupted, digest, migrate, sameDigest } from '../../src/store/migrate';
import { createIndexer } from '../../src/search/indexer';
import { parseSearch } from '../../src/search/parse';
import { verifyAuditChain } from '../../src/audit/verify';
import { backupSqlite } from '../../scripts/backup';
import { BASE, testRegistry } from '../helpers/app';

const dir = mkdtempSync(join(tmpdir(), 'linkcare-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const registry = testRegistry();
const indexer = createIndexer(registry, BASE);
const event = (n: number): AuditEvent => ({ resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: new Date(Date.UTC(2024, 0, n)).toISOString(), outcome: n % 2 ? '0' : '4', agent: [{ requestor: true }], source: { observer: { display: `n${n}` } } });

async function seed(file: string): Promise<void> {
  const store = openSqliteStore(file, { indexer });
  for (let i = 0; i < 12; i++) {
    await store.unitOfWork(async (tx) => {
      await tx.put({ resourceType: 'Patient', id: `p${i}`, gender: i % 2 ? 'male' : 'female' } as Resource & { id: string }, { custodian: 'org-a', patient: `p${i}` });
      await tx.enrol(`p${i}`, i % 3 ? 'org-a' : 'org-b');
      await tx.claimPseudonym('client-code', `CODE-${i}`, `p${i}`);
      await tx.appendAudit(event(i + 1), 'org-a');
    });
  }
  await store.unitOfWork(async (tx) => {
    await tx.put({ resourceType: 'Patient', id: 'p1', gender: 'other' } as Resource & { id: string });
    await tx.remove('Patient', 'p2');
    await tx.enqueueJob('export', { n: 1 }, { owner: 'u1' });
    await tx.enqueueJob('deliver', { url: 'x' });
  });
  await store.close();
}

test('SQLite → SQLite: interrupted, resumed, verified; the copy answers reads, searches, history and audit verification', async () => {
  const from = join(dir, 'source.sqlite');
  const to = join(dir, 'target.sqlite');
  await seed(from);
  const source = await openSqliteMigration(from);
  let target = await openSqliteMigration(to, { indexer, create: true });
  await expect(migrate(source, target, { batchSize: 3, maxBatches: 4 })).rejects.toBeInstanceOf(MigrationInterrupted);
  expect((await target.progress())?.phase).toBe('versions');
  await target.close();
  // A new process resumes from the progress recorded at the target.
  target = await openSqliteMigration(to, { indexer });
  const phases = new Set<string>();
  const { source: a, target: b } = await migrate(source, target, { batchSize: 3, onProgress: (p) => phases.add(p) });
  expect(sameDigest(a, b)).toBe(true);
  expect(a).toMatchObject({ versions: 12 * 2 + 2, enrolments: 12, pseudonyms: 12, auditLinks: 12, jobs: 2 });
  expect([...phases]).toEqual(expect.arrayContaining(['versions', 'enrolments', 'pseudonyms', 'audit', 'jobs', 'done']));
  // Running it again is harmless.
  expect(sameDigest((await migrate(source, target)).target, b)).toBe(true);
  await source.close();
  await target.close();

  const src = openSqliteStore(from, { indexer });
  const dst = openSqliteStore(to, { indexer });
  try {
    for (const id of ['p0', 'p1', 'p2']) expect(await dst.read('Patient', id)).toEqual(await src.read('Patient', id));
    expect(await dst.history({ type: 'Patient', id: 'p1', count: 10 })).toEqual(await src.history({ type: 'Patient', id: 'p1', count: 10 }));
    expect(await dst.enrolments('p3')).toEqual(['org-b']);
    expect(await dst.enrolments('p4')).toEqual(['org-a']);
    const plan = () => parseSearch(registry, ['Patient'], [['gender', 'female']], { baseUrl: BASE }).plan;
    expect((await dst.search(plan())).total).toBe((await src.search(plan())).total);
    expect((await dst.search(plan())).total).toBe(5);
    // AuditEvents arrive as versions; the target's reindex gives them their search keys.
    const audit = (query: [string, string][]) => parseSearch(registry, ['AuditEvent'], [...query, ['_total', 'accurate']], { baseUrl: BASE }).plan;
    expect((await dst.search(audit([['outcome', '4']]))).total).toBe(6);
    expect((await dst.search(audit([['date', 'ge2024-01-05']]))).total).toBe(8);
    const report = await verifyAuditChain(dst);
    expect(report.problems).toEqual([]);
    expect(await dst.auditHead()).toEqual(await src.auditHead());
    expect((await dst.listJobs('export')).map((j) => j.owner)).toEqual(['u1']);
    expect(await dst.unitOfWork((tx) => tx.findPseudonym('client-code', 'CODE-4'))).toBe('p4');
    // New writes continue the sequence without colliding with copied versions.
    await dst.unitOfWork((tx) => tx.put({ resourceType: 'Patient', id: 'p1', gender: 'male' } as Resource & { id: string }));
    expect((await dst.read('Patient', 'p1'))?.versionId).toBe('3');
  } finally {
    await src.close();
    await dst.close();
  }
});

test('a changed row at the target shows in the verification digest', async () => {
  const from = join(dir, 's2.sqlite');
  const to = join(dir, 't2.sqlite');
  await seed(from);
  const source = await openSqliteMigration(from);
  const target = await openSqliteMigration(to, { indexer, create: true });
  await migrate(source, target);
  const raw = new (await import('better-sqlite3')).default(to);
  raw.prepare("UPDATE versions SET content = replace(content, 'female', 'male') WHERE type = 'Patient' AND id = 'p0'").run();
  raw.close();
  const [a, b] = [await digest(source), await digest(target)];
  expect(a.versions).toBe(b.versions);
  expect(a.hash.versions).not.toBe(b.hash.versions);
  await source.close();
  await target.close();
});

test('npm run backup: an online copy that opens as a store', async () => {
  const file = join(dir, 'live.sqlite');
  await seed(file);
  const live = openSqliteStore(file, { indexer });
  // Written while the store is open: it sits in the WAL and must be in the copy.
  await live.unitOfWork((tx) => tx.put({ resourceType: 'Patient', id: 'late', gender: 'female' } as Resource & { id: string }));
  const copy = join(dir, 'backups', 'copy.sqlite');
  expect(await backupSqlite(file, copy)).toBeGreaterThan(0);
  await live.close();
  const restored = openSqliteStore(copy, { indexer });
  expect((await restored.read('Patient', 'late'))?.versionId).toBe('1');
  expect((await verifyAuditChain(restored)).problems).toEqual([]);
  await restored.close();
});
