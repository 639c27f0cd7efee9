/**
 * Upgrades a store file written before AuditEvents had their own log (audit-log.ts): events
 * stored as resources lose their resource row and generic index rows and gain their key rows. The
 * version row (the JSON the chain hashed) stays. Runs at open in batches of one transaction each,
 * so an interrupted upgrade resumes where it stopped.
 */
import type Database from 'better-sqlite3';
import type { Resource } from '@medplum/fhirtypes';
import type { Indexer } from './tx';
import { AUDIT, auditKeyWriter } from './audit-log';
import { IndexWriter } from './index-write';

const BATCH = 2000;

/** Moves every old-layout event into the log; returns how many were moved. */
export function upgradeAuditLog(db: Database.Database, indexer: Indexer): number {
  const keys = auditKeyWriter(db);
  let moved = 0;
  const index = new IndexWriter(db);
  const next = db.prepare(`SELECT r.rid, v.seq, v.content FROM resources r JOIN versions v ON v.seq = r.seq WHERE r.type = '${AUDIT}' LIMIT ?`);
  const dropRow = db.prepare('DELETE FROM resources WHERE rid = ?');
  const batch = db.transaction((rows: { rid: number; seq: number; content: string }[]) => {
    for (const r of rows) {
      index.clear(r.rid);
      dropRow.run(r.rid);
      keys(r.seq, indexer(JSON.parse(r.content) as Resource));
    }
  });
  for (let rows = next.all(BATCH) as { rid: number; seq: number; content: string }[]; rows.length; rows = next.all(BATCH) as typeof rows) {
    batch(rows);
    moved += rows.length;
  }
  return moved;
}
