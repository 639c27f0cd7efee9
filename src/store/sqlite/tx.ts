/** Writes inside a unit of work on the embedded store's write connection. */
import { checkIfMatch, dropUndefined, nextInstant, nextVersion, recordedInstant } from '../versioning';
import { enqueueJob } from './jobs';
import type Database from 'better-sqlite3';
import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import { GENESIS_HASH, linkHash } from '../../audit/chain';
import { newTimeOrderedId } from '../time-ordered-id';
import { type Job, type PseudonymKind, type StoreTx, type StoredVersion, type WriteOptions } from '../port';
import type { IndexRows } from '../../search/index-rows';
import { IndexWriter } from './index-write';
import { SqliteReader } from './reader';
import { AUDIT, auditKeyWriter, rewriteAuditKeys } from './audit-log';

/** Computes a resource's search index rows (see src/search/extract.ts). */
export type Indexer = (resource: Resource) => IndexRows;

/** Memo key of the audit chain's head within a unit of work. */
const AUDIT_HEAD = 'audit-chain-head';

interface CurrentRow {
  rid: number;
  version: number;
  deleted: number;
  last_updated: string;
  custodian: string | null;
  patient: string | null;
}


export class SqliteTx extends SqliteReader implements StoreTx {
  /** Cleared by the store at the start of every unit of work (this object is reused). */
  readonly memo = new Map<string, unknown>();
  private readonly index: IndexWriter;
  private readonly auditKeys: (seq: number, content: string) => void;

  constructor(db: Database.Database, private readonly indexer: Indexer) {
    super(db);
    this.index = new IndexWriter(db);
    this.auditKeys = auditKeyWriter(db, indexer);
  }

  private current(type: string, id: string): CurrentRow | undefined {
    return this.sql.get('SELECT rid, version, deleted, last_updated, custodian, patient FROM resources WHERE type = ? AND id = ?').get(type, id) as
      | CurrentRow
      | undefined;
  }

  /** Appends a version and points the resource row at it; returns the rid. */
  private write(type: string, id: string, current: CurrentRow | undefined, v: Omit<StoredVersion, 'type' | 'id' | 'resource'>, content: string | null): number {
    const seq = Number(
      this.sql
        .get('INSERT INTO versions (type, id, version, last_updated, deleted, method, custodian, patient, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(type, id, Number(v.versionId), v.lastUpdated, v.deleted ? 1 : 0, v.method, v.custodian ?? null, v.patient ?? null, content).lastInsertRowid,
    );
    if (!current) {
      return Number(
        this.sql
          .get('INSERT INTO resources (type, id, version, seq, last_updated, deleted, custodian, patient) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(type, id, Number(v.versionId), seq, v.lastUpdated, v.deleted ? 1 : 0, v.custodian ?? null, v.patient ?? null).lastInsertRowid,
      );
    }
    this.sql
      .get('UPDATE resources SET version = ?, seq = ?, last_updated = ?, deleted = ?, custodian = ?, patient = ? WHERE rid = ?')
      .run(Number(v.versionId), seq, v.lastUpdated, v.deleted ? 1 : 0, v.custodian ?? null, v.patient ?? null, current.rid);
    return current.rid;
  }

  async put(resource: Resource & { id: string }, options: WriteOptions = {}): Promise<StoredVersion> {
    return this.putContent(resource, options).version;
  }

  /** put, also returning the exact JSON stored (the audit chain hashes it). */
  private putContent(resource: Resource & { id: string }, options: WriteOptions): { version: StoredVersion; content: string } {
    const type = resource.resourceType;
    const current = this.current(type, resource.id);
    checkIfMatch(type, resource.id, current, options);
    const meta = nextVersion(current && { ...current, lastUpdated: current.last_updated }, options);
    const stored = { ...resource, meta: { ...resource.meta, versionId: meta.versionId, lastUpdated: meta.lastUpdated } } as Resource;
    const content = JSON.stringify(stored);
    const rid = this.write(type, resource.id, current, meta, content);
    this.index.write(rid, type, this.indexer(stored), !current);
    return { version: dropUndefined({ type, id: resource.id, resource: stored, ...meta }), content };
  }

  async remove(type: string, id: string, options: WriteOptions = {}): Promise<StoredVersion | undefined> {
    const current = this.current(type, id);
    checkIfMatch(type, id, current, options);
    if (!current || current.deleted) return undefined;
    const meta = {
      versionId: String(current.version + 1),
      lastUpdated: nextInstant(current.last_updated),
      deleted: true,
      method: 'DELETE',
      custodian: current.custodian ?? undefined,
      patient: current.patient ?? undefined,
    } as const;
    this.write(type, id, current, meta, null);
    this.index.clear(current.rid);
    return dropUndefined({ type, id, ...meta });
  }

  async enrol(patientId: string, org: string): Promise<void> {
    this.sql.get('INSERT OR IGNORE INTO enrolments (patient_id, org, enrolled_at) VALUES (?, ?, ?)').run(patientId, org, new Date().toISOString());
  }

  async claimPseudonym(kind: PseudonymKind, key: string, patientId: string): Promise<boolean> {
    return this.sql.get('INSERT OR IGNORE INTO pseudonyms (kind, key, patient_id) VALUES (?, ?, ?)').run(kind, key, patientId).changes === 1;
  }

  async rebindPseudonym(kind: PseudonymKind, key: string, patientId: string): Promise<void> {
    this.sql.get('UPDATE pseudonyms SET patient_id = ? WHERE kind = ? AND key = ?').run(patientId, kind, key);
  }

  async findPseudonym(kind: PseudonymKind, key: string): Promise<string | undefined> {
    return (this.sql.get('SELECT patient_id FROM pseudonyms WHERE kind = ? AND key = ?').get(kind, key) as { patient_id: string } | undefined)?.patient_id;
  }

  /**
   * Appends the event to the hash chain and the audit journal: two appended rows. The event joins
   * the audit log (audit-log.ts: a version row and key rows) when the journal is moved, in batches
   * off the request path (`moveAuditJournal`): a read's commit then writes a few pages, not the
   * dozen its keys and version row touch. `meta.lastUpdated` is the event's `recorded` instant,
   * so one column answers both `date` and `_lastUpdated`.
   */
  async appendAudit(event: AuditEvent, custodian?: string): Promise<StoredVersion> {
    const id = newTimeOrderedId();
    const lastUpdated = recordedInstant(event.recorded) ?? nextInstant(undefined);
    const stored = { ...event, id, meta: { ...event.meta, versionId: '1', lastUpdated } } as AuditEvent & { id: string };
    const content = JSON.stringify(stored);
    // A unit of work appending several events reads the chain's head once (the memo lives for the unit).
    const head = (this.memo.get(AUDIT_HEAD) ?? this.sql.get('SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1').get()) as
      | { seq: number; hash: string }
      | undefined;
    const seq = (head?.seq ?? 0) + 1;
    const hash = linkHash(head?.hash ?? GENESIS_HASH, content);
    this.sql.get('INSERT INTO audit_chain (seq, event_id, prev_hash, hash) VALUES (?, ?, ?, ?)').run(seq, id, head?.hash ?? GENESIS_HASH, hash);
    this.sql.get('INSERT INTO audit_journal (seq, event_id, custodian, last_updated, content) VALUES (?, ?, ?, ?, ?)').run(seq, id, custodian ?? null, lastUpdated, content);
    this.sql.get("INSERT INTO meta (key, value) VALUES ('audit_head', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(`${seq}:${hash}`);
    this.memo.set(AUDIT_HEAD, { seq, hash });
    return dropUndefined({ type: AUDIT, id, resource: stored, versionId: '1', lastUpdated, deleted: false, method: 'POST' as const, custodian });
  }

  /**
   * Moves up to `limit` journaled events into the audit log (a version row with the exact JSON
   * the chain hashed, and key rows); returns how many were moved.
   */
  moveAuditJournal(limit: number): number {
    const rows = this.sql
      .get('SELECT seq, event_id, custodian, last_updated, content FROM audit_journal ORDER BY seq LIMIT ?')
      .all(limit) as { seq: number; event_id: string; custodian: string | null; last_updated: string; content: string }[];
    if (!rows.length) return 0;
    const insert = this.sql.get(
      `INSERT INTO versions (type, id, version, last_updated, deleted, method, custodian, patient, content) VALUES ('${AUDIT}', ?, 1, ?, 0, 'POST', ?, NULL, ?)`,
    );
    for (const r of rows) {
      const seq = Number(insert.run(r.event_id, r.last_updated, r.custodian, r.content).lastInsertRowid);
      this.auditKeys(seq, r.content);
    }
    this.sql.get('DELETE FROM audit_journal WHERE seq <= ?').run(rows[rows.length - 1]!.seq);
    return rows.length;
  }

  async erasePatient(patientId: string): Promise<number> {
    const rows = this.sql
      .get("SELECT rid, type, id FROM resources WHERE patient = ? OR (type = 'Patient' AND id = ?)")
      .all(patientId, patientId) as { rid: number; type: string; id: string }[];
    for (const r of rows) {
      this.index.clear(r.rid);
      this.sql.get('DELETE FROM versions WHERE type = ? AND id = ?').run(r.type, r.id);
      this.sql.get('DELETE FROM resources WHERE rid = ?').run(r.rid);
    }
    // Versions that were about the client before being moved elsewhere go too.
    this.sql.get('DELETE FROM versions WHERE patient = ?').run(patientId);
    this.sql.get('DELETE FROM enrolments WHERE patient_id = ?').run(patientId);
    this.sql.get('DELETE FROM pseudonyms WHERE patient_id = ?').run(patientId);
    return rows.length;
  }

  async enqueueJob(queue: string, payload: unknown, options?: { id?: string; notBefore?: string; owner?: string }): Promise<Job> {
    return enqueueJob(this.db, queue, payload, options);
  }

  async touch(key: string): Promise<void> {
    this.sql.get('INSERT INTO stamps (key, n) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1').run(key);
  }

  /** Rebuilds the key rows of up to `limit` AuditEvents with seq > `afterSeq` (audit-log.ts). */
  reindexAuditAfter(afterSeq: number, limit: number): { lastRid: number; count: number } {
    return rewriteAuditKeys(this.db, this.indexer, afterSeq, limit);
  }

  /** Re-indexes up to `limit` current resources with rid > `afterRid`; returns the last rid seen. */
  reindexAfter(afterRid: number, limit: number): { lastRid: number; count: number } {
    const rows = this.sql
      .get('SELECT r.rid, r.type, v.content FROM resources r JOIN versions v ON v.seq = r.seq WHERE r.rid > ? AND r.deleted = 0 ORDER BY r.rid LIMIT ?')
      .all(afterRid, limit) as { rid: number; type: string; content: string }[];
    for (const row of rows) this.index.write(row.rid, row.type, this.indexer(JSON.parse(row.content) as Resource));
    return { lastRid: rows.length ? rows[rows.length - 1]!.rid : afterRid, count: rows.length };
  }
}

