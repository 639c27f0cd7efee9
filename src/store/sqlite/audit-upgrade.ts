/**
 * Upgrades a store file written before AuditEvents had their own log (audit-log.ts): events
 * stored as resources lose their resource row and generic index rows and gain their key rows. The
 * version row (the JSON the chain hashed) stays. Runs at open in batches of one transaction each,
 * so an interrupted upgrade resumes where it stopped.
 */
import type Database from 'better-sqlite3';
import type { Indexer } from './tx';
import { AUDIT, auditKeyWriter, rewriteAuditKeys } from './audit-log';
import { IndexWriter } from './index-write';
import { AUDIT_KEY_COLUMNS, AUDIT_KEYS_DDL } from './schema';

const BATCH = 2000;

/** Moves every old-layout event into the log; returns how many were moved. */
export function upgradeAuditLog(db: Database.Database, indexer: Indexer): number {
  rebucketKeys(db, indexer);
  const next = db.prepare(`SELECT r.rid, v.seq, v.content FROM resources r JOIN versions v ON v.seq = r.seq WHERE r.type = '${AUDIT}' LIMIT ?`);
  let rows = next.all(BATCH) as { rid: number; seq: number; content: string }[];
  // Every open after the upgrade stops here, before preparing the writers below.
  if (!rows.length) return 0;
  const keys = auditKeyWriter(db, indexer);
  let moved = 0;
  const index = new IndexWriter(db);
  const dropRow = db.prepare('DELETE FROM resources WHERE rid = ?');
  const batch = db.transaction((batchRows: typeof rows) => {
    for (const r of batchRows) {
      index.clear(r.rid);
      dropRow.run(r.rid);
      keys(r.seq, r.content);
    }
  });
  for (; rows.length; rows = next.all(BATCH) as typeof rows) {
    batch(rows);
    moved += rows.length;
  }
  return moved;
}

/**
 * Key rows in an earlier key order (without buckets: one commit's layout, never released): the
 * table is rebuilt from the events' versions. `meta.audit_keys_rebuilt` records the last seq done,
 * in each batch's transaction, so a rebuild cut short goes on at the next open.
 */
function rebucketKeys(db: Database.Database, indexer: Indexer): void {
  const progress = db.prepare("SELECT value FROM meta WHERE key = 'audit_keys_rebuilt'");
  const setProgress = db.prepare("INSERT INTO meta (key, value) VALUES ('audit_keys_rebuilt', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  const key = (db.prepare("SELECT name FROM pragma_table_info('audit_keys') WHERE pk > 0 ORDER BY pk").all() as { name: string }[]).map((c) => c.name);
  if (key.join() !== AUDIT_KEY_COLUMNS.join()) {
    db.transaction(() => {
      db.exec('DROP TABLE audit_keys');
      db.exec(AUDIT_KEYS_DDL);
      setProgress.run('0');
    })();
  }
  const done = progress.get() as { value: string } | undefined;
  if (!done) return;
  const batch = db.transaction((after: number) => {
    const r = rewriteAuditKeys(db, indexer, after, BATCH);
    if (r.count) setProgress.run(String(r.lastRid));
    return r;
  });
  for (let r = batch(Number(done.value)); r.count; r = batch(r.lastRid));
  db.prepare("DELETE FROM meta WHERE key = 'audit_keys_rebuilt'").run();
}
