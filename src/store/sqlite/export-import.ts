/**
 * Migration reads and raw imports on an embedded store file (see src/store/migrate.ts). Uses its
 * own connection to the file; the schema comes from opening the store once. Every import is
 * idempotent (INSERT OR IGNORE, version-guarded upserts), so an interrupted migration can rerun.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { Job } from '../port';
import type { ExportedEnrolment, ExportedLink, ExportedPseudonym, ExportedVersion, MigrationTarget, Progress } from '../migrate';
import { getJob } from './jobs';
import { AUDIT } from './audit-log';
import { type Indexer, openSqliteStore } from './sqlite-store';

interface VersionRow {
  seq: number; type: string; id: string; version: number; last_updated: string; deleted: number; method: string;
  custodian: string | null; patient: string | null; content: string | null;
}

/** Opens `file` for a migration; `create` makes the schema first (a target), otherwise it must exist (a source). */
export async function openSqliteMigration(file: string, options: { indexer?: Indexer; create?: boolean } = {}): Promise<MigrationTarget> {
  // Creating makes the schema; opening a source and closing it moves its audit journal into the
  // versions, which are what a migration reads.
  if (options.create || existsSync(file)) await openSqliteStore(file, options.create ? {} : { indexer: options.indexer }).close();
  const db = new Database(file, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const tx = <A extends unknown[]>(fn: (...a: A) => void) => db.transaction(fn);

  const insVersion = db.prepare(`INSERT OR IGNORE INTO versions (seq, type, id, version, last_updated, deleted, method, custodian, patient, content)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  // The current row follows the highest version seen, whatever order batches arrive in.
  const upsertResource = db.prepare(`INSERT INTO resources (type, id, version, seq, last_updated, deleted, custodian, patient) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(type, id) DO UPDATE SET version = excluded.version, seq = excluded.seq, last_updated = excluded.last_updated,
      deleted = excluded.deleted, custodian = excluded.custodian, patient = excluded.patient WHERE excluded.version > resources.version`);
  const importVersions = tx((rows: ExportedVersion[]) => {
    for (const r of rows) {
      const args = [r.type, r.id, r.version] as const;
      insVersion.run(r.seq, ...args, r.lastUpdated, r.deleted ? 1 : 0, r.method, r.custodian ?? null, r.patient ?? null, r.content ?? null);
      // An AuditEvent is a version and key rows only (audit-log.ts); reindex() writes its keys.
      if (r.type !== AUDIT) upsertResource.run(...args, r.seq, r.lastUpdated, r.deleted ? 1 : 0, r.custodian ?? null, r.patient ?? null);
    }
  });
  const insEnrolment = db.prepare('INSERT OR IGNORE INTO enrolments (patient_id, org, enrolled_at) VALUES (?, ?, ?)');
  const insPseudonym = db.prepare('INSERT OR IGNORE INTO pseudonyms (kind, key, patient_id) VALUES (?, ?, ?)');
  const insLink = db.prepare('INSERT OR IGNORE INTO audit_chain (seq, event_id, prev_hash, hash) VALUES (?, ?, ?, ?)');
  const insJob = db.prepare(`INSERT OR IGNORE INTO jobs (id, queue, state, payload, result, attempts, not_before, lease_until, error, owner, created, updated)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  const getMeta = db.prepare('SELECT value FROM meta WHERE key = ?');

  return {
    async versions(afterSeq, limit) {
      const rows = db.prepare('SELECT * FROM versions WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as VersionRow[];
      return rows.map((r) => {
        const v: ExportedVersion = { seq: r.seq, type: r.type, id: r.id, version: r.version, lastUpdated: r.last_updated, deleted: r.deleted === 1, method: r.method };
        if (r.custodian !== null) v.custodian = r.custodian;
        if (r.patient !== null) v.patient = r.patient;
        if (r.content !== null) v.content = r.content;
        return v;
      });
    },
    async enrolments(after, limit) {
      return (db.prepare(`SELECT patient_id || '|' || org AS key, patient_id, org, enrolled_at FROM enrolments WHERE patient_id || '|' || org > ? ORDER BY key LIMIT ?`)
        .all(after, limit) as { key: string; patient_id: string; org: string; enrolled_at: string }[])
        .map((r) => ({ key: r.key, patientId: r.patient_id, org: r.org, enrolledAt: r.enrolled_at }));
    },
    async pseudonyms(after, limit) {
      return (db.prepare(`SELECT kind || '|' || key AS key2, kind, key, patient_id FROM pseudonyms WHERE kind || '|' || key > ? ORDER BY key2 LIMIT ?`)
        .all(after, limit) as { key2: string; kind: string; key: string; patient_id: string }[])
        .map((r) => ({ key2: r.key2, kind: r.kind, key: r.key, patientId: r.patient_id }));
    },
    async auditLinks(afterSeq, limit) {
      return (db.prepare('SELECT seq, event_id, prev_hash, hash FROM audit_chain WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as {
        seq: number; event_id: string; prev_hash: string; hash: string;
      }[]).map((r) => ({ seq: r.seq, eventId: r.event_id, prevHash: r.prev_hash, hash: r.hash }));
    },
    async auditHead() {
      const row = getMeta.get('audit_head') as { value: string } | undefined;
      if (!row) return undefined;
      const [seq, hash] = row.value.split(':');
      return { seq: Number(seq), hash: hash! };
    },
    async jobs(afterId, limit) {
      const ids = db.prepare('SELECT id FROM jobs WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as { id: string }[];
      return ids.map(({ id }) => getJob(db, id)!);
    },
    async importVersions(rows) {
      importVersions(rows);
    },
    async importEnrolments(rows: ExportedEnrolment[]) {
      tx(() => rows.forEach((r) => insEnrolment.run(r.patientId, r.org, r.enrolledAt)))();
    },
    async importPseudonyms(rows: ExportedPseudonym[]) {
      tx(() => rows.forEach((r) => insPseudonym.run(r.kind, r.key, r.patientId)))();
    },
    async importAuditLinks(rows: ExportedLink[]) {
      tx(() => rows.forEach((r) => insLink.run(r.seq, r.eventId, r.prevHash, r.hash)))();
    },
    async setAuditHead(head) {
      setMeta.run('audit_head', `${head.seq}:${head.hash}`);
    },
    async importJobs(rows: Job[]) {
      tx(() =>
        rows.forEach((j) =>
          insJob.run(j.id, j.queue, j.state, JSON.stringify(j.payload ?? null), j.result === undefined ? null : JSON.stringify(j.result), j.attempts, j.notBefore,
            j.leaseUntil ?? null, j.error ?? null, j.owner ?? null, j.created, j.updated),
        ),
      )();
    },
    async progress() {
      const row = getMeta.get('migration_progress') as { value: string } | undefined;
      return row ? (JSON.parse(row.value) as Progress) : undefined;
    },
    async setProgress(p) {
      setMeta.run('migration_progress', JSON.stringify(p));
    },
    async reindex() {
      const store = openSqliteStore(file, { indexer: options.indexer });
      try {
        return await store.reindex();
      } finally {
        await store.close();
      }
    },
    async close() {
      db.close();
    },
  };
}
