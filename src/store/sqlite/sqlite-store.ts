/**
 * The embedded store on better-sqlite3: WAL, one write connection whose units of work are
 * serialised by a mutex, and one read connection that only ever sees committed data. Committed
 * reads use the write connection whenever no unit of work is open on it (its cache stays warm).
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Mutex } from '../mutex';
import { reindexInBatches } from '../versioning';
import type { Store, StoreTx } from '../port';
import { emptyRows } from '../../search/index-rows';
import { DDL, INDEX_DDL, RETIRED_INDEXES, SCHEMA_VERSION } from './schema';
import { claimJobs as claimJobsIn, getJob as getJobIn, listJobs as listJobsIn, updateJob as updateJobIn } from './jobs';
import { SqliteReader } from './reader';
import { type Indexer, SqliteTx } from './tx';
import { sqliteIndicatorQueries } from './report-run';
import { upgradeAuditLog } from './audit-upgrade';
import { AUDIT } from './audit-log';
import { AuditJournalMover, planReachesAuditEvents } from './audit-journal';
import { sqliteExportPages } from './export-pages';
import { startCheckpointer } from './checkpointer';

export type { Indexer } from './tx';

function openConnection(file: string, readonly: boolean): Database.Database {
  const db = new Database(file, { readonly, fileMustExist: readonly });
  db.pragma('busy_timeout = 5000');
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (SIGKILL); only power loss can drop the last commits.
    db.pragma('synchronous = NORMAL');
    // Erased client data must not linger in free pages.
    db.pragma('secure_delete = ON');
    // Fewer, larger checkpoints: each commit dirties many index pages, and checkpoints fsync.
    db.pragma('wal_autocheckpoint = 4000');
  }
  db.pragma('cache_size = -32000');
  return db;
}

export interface SqliteStoreOptions {
  /** Without one, nothing is indexed and only _id/_lastUpdated searches work (store unit tests). */
  indexer?: Indexer;
  /** Checkpoint on a worker thread (default: on for a file, off for ':memory:'); see checkpointer.ts. */
  backgroundCheckpoint?: boolean;
}

/** The writer's own auto-checkpoint (pages) while a worker checkpoints: only a backstop. */
const BACKSTOP_CHECKPOINT_PAGES = 20000;

/** The embedded store: the port, plus moving the audit journal on demand (migrations, tests, benches). */
export interface SqliteStore extends Store {
  /** Moves every journaled audit event into the audit log. */
  flushAudit(): Promise<void>;
}

/** Opens (creating when needed) the embedded store at `file`, or a throwaway one for ':memory:'. */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): SqliteStore {
  const ephemeral = file === ':memory:';
  // ':memory:' still needs two connections (committed reads vs. the open unit of work), so it
  // lives in a private temporary file that close() removes.
  const path = ephemeral ? join(tmpdir(), `linkcare-${randomUUID()}.sqlite`) : file;
  mkdirSync(dirname(path), { recursive: true });
  const writer = openConnection(path, false);
  writer.exec(DDL);
  writer.exec(INDEX_DDL);
  for (const name of RETIRED_INDEXES) writer.exec(`DROP INDEX IF EXISTS ${name}`);
  writer.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
  const indexer = options.indexer ?? (() => emptyRows());
  // Without an indexer the events' keys could not be written: the upgrade waits for an open with one.
  if (options.indexer) upgradeAuditLog(writer, options.indexer);
  const reader = openConnection(path, true);
  const checkpointer = (options.backgroundCheckpoint ?? !ephemeral) ? startCheckpointer(path) : undefined;
  if (checkpointer) writer.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  const mutex = new Mutex();
  const onReader = new SqliteReader(reader);
  // Between units of work the writer sees exactly the committed data, and its page cache stays
  // warm: SQLite's pager discards a connection's cache when it finds another connection has
  // committed, which every audited read does (a Patient read and its enrolments: 53 µs on the read
  // connection after a commit, 22 µs on the writer; docs/performance.md). Reads are synchronous, so
  // no unit of work can begin in the middle of one; during a unit, reads use the read connection.
  const onWriter = new SqliteReader(writer);
  const committed = (): SqliteReader => (writer.inTransaction ? onReader : onWriter);
  const tx = new SqliteTx(writer, indexer);
  let closed = false;
  // An evaluation's sorts and temporary tables need tens of MB for a few seconds; the writer's page
  // cache gives its memory back first, so the process's peak stays under issue #9's 300 MB
  // (docs/performance.md). Rare requests: the cache warms again from the OS's.
  const indicatorQueries = sqliteIndicatorQueries(reader, undefined, () => writer.pragma('shrink_memory'));
  const exportPages = sqliteExportPages(reader);

  const unitOfWork = <T>(work: (tx: StoreTx) => Promise<T>): Promise<T> =>
    mutex.run(async () => {
      if (closed) throw new Error('store is closed');
      writer.exec('BEGIN IMMEDIATE');
      tx.memo.clear();
      try {
        const result = await work(tx);
        writer.exec('COMMIT');
        return result;
      } catch (err) {
        if (writer.inTransaction) writer.exec('ROLLBACK');
        throw err;
      }
    });

  const journal = new AuditJournalMover({
    pending: () => committed().auditJournalPending(),
    move: (limit) => unitOfWork(async () => tx.moveAuditJournal(limit)),
  });
  journal.start();
  const audited = async <T>(reaches: boolean, read: () => Promise<T>): Promise<T> => {
    if (reaches) await journal.drain();
    return read();
  };

  return {
    kind: 'sqlite',
    read: (type, id) => audited(type === AUDIT, () => committed().read(type, id)),
    vread: (type, id, v) => audited(type === AUDIT, () => committed().vread(type, id, v)),
    history: (q) => audited(!q.type || q.type === AUDIT, () => committed().history(q)),
    search: (plan) => audited(planReachesAuditEvents(plan), () => committed().search(plan)),
    // Exports never hold AuditEvents (src/export/deidentify.ts, src/export/worker.ts).
    exportPage: exportPages,
    flushAudit: () => journal.drain(),
    enrolments: (patientId) => committed().enrolments(patientId),
    stamp: (key) => committed().stamp(key),
    unitOfWork,
    auditChain: async (afterSeq, limit) => committed().auditChain(afterSeq, limit),
    auditHead: async () => committed().auditHead(),
    async purge() {
      // Fold the WAL into the main file and truncate it, so erased pages survive in neither.
      await mutex.run(async () => {
        writer.pragma('wal_checkpoint(TRUNCATE)');
      });
    },
    async reindex(opts = {}) {
      const resources = await reindexInBatches((after, size) => unitOfWork(async () => tx.reindexAfter(after, size)), opts);
      return resources + (await reindexInBatches((after, size) => unitOfWork(async () => tx.reindexAuditAfter(after, size)), { batchSize: opts.batchSize }));
    },
    claimJobs: (queue, opts) => mutex.run(async () => claimJobsIn(writer, queue, opts)),
    updateJob: (id, changes, expectState) => mutex.run(async () => updateJobIn(writer, id, changes, expectState)),
    getJob: async (id) => getJobIn(reader, id),
    listJobs: async (queue, opts) => listJobsIn(reader, queue, opts),
    reports: () => indicatorQueries,
    async ping() {
      reader.prepare('SELECT 1').get();
    },
    async close() {
      if (closed) return;
      journal.stop();
      // A cleanly closed file holds no journal (backups and migrations read the versions).
      await journal.drain().catch(() => undefined);
      // Wait for the unit of work in progress, then close.
      await mutex.run(async () => {
        closed = true;
      });
      await checkpointer?.stop();
      reader.close();
      writer.close();
      if (ephemeral) for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    },
  };
}
