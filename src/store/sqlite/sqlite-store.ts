/**
 * The embedded store on better-sqlite3: WAL, one write connection serialised by a mutex
 * (units of work), one read connection that only ever sees committed data.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { Mutex } from '../mutex';
import {
  type HistoryPage,
  type HistoryQuery,
  type SearchResult,
  type Store,
  type StoreReader,
  type StoreTx,
  type StoredVersion,
  type WriteOptions,
  VersionConflictError,
} from '../port';
import type { SearchPlan } from '../../search/plan';
import { SqliteSearch } from './search-sql';
import { Statements } from './statements';
import { IndexWriter } from './index-write';
import { DDL, INDEX_DDL, SCHEMA_VERSION } from './schema';
import { type IndexRows, emptyRows } from '../../search/index-rows';
import { decodeCursor, encodeCursor } from '../cursor';
import { type VersionRow, rowToVersion } from './rows';

type Db = Database.Database;

function openConnection(file: string, readonly: boolean): Db {
  const db = new Database(file, { readonly, fileMustExist: readonly });
  db.pragma('busy_timeout = 5000');
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (SIGKILL); only power loss can drop the last commits.
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('cache_size = -32000');
  return db;
}

/** Reads shared by the committed-view connection and the unit-of-work connection. */
class SqliteReader implements StoreReader {
  private readonly searcher: SqliteSearch;
  protected readonly sql: Statements;

  constructor(protected readonly db: Db) {
    this.sql = new Statements(db);
    this.searcher = new SqliteSearch(this.sql);
  }

  async read(type: string, id: string): Promise<StoredVersion | undefined> {
    const row = this.sql
      .get('SELECT v.* FROM resources r JOIN versions v ON v.seq = r.seq WHERE r.type = ? AND r.id = ?')
      .get(type, id) as VersionRow | undefined;
    return row ? rowToVersion(row) : undefined;
  }

  async vread(type: string, id: string, versionId: string): Promise<StoredVersion | undefined> {
    if (!/^[1-9][0-9]{0,15}$/.test(versionId)) return undefined;
    const row = this.sql
      .get('SELECT * FROM versions WHERE type = ? AND id = ? AND version = ?')
      .get(type, id, Number(versionId)) as VersionRow | undefined;
    return row ? rowToVersion(row) : undefined;
  }

  async history(q: HistoryQuery): Promise<HistoryPage> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.type) (where.push('type = ?'), args.push(q.type));
    if (q.id) (where.push('id = ?'), args.push(q.id));
    if (q.since) (where.push('last_updated >= ?'), args.push(q.since));
    if (q.at) {
      // The version current at `at`: the newest one written at or before it, per resource.
      where.push(
        `seq IN (SELECT MAX(seq) FROM versions WHERE last_updated <= ?${q.type ? ' AND type = ?' : ''}${
          q.id ? ' AND id = ?' : ''
        } GROUP BY type, id)`,
      );
      args.push(q.at, ...(q.type ? [q.type] : []), ...(q.id ? [q.id] : []));
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.sql
      .get(`SELECT COUNT(*) AS n FROM versions ${filter}`).get(...args) as { n: number }).n;
    const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
    const pageWhere = cursor ? `${filter ? `${filter} AND` : 'WHERE'} seq < ?` : filter;
    const pageArgs = cursor ? [...args, cursor.seq] : args;
    const rows = this.sql
      .get(`SELECT * FROM versions ${pageWhere} ORDER BY seq DESC LIMIT ?`)
      .all(...pageArgs, q.count + 1) as VersionRow[];
    const more = rows.length > q.count;
    const page = rows.slice(0, q.count);
    const last = page[page.length - 1];
    return {
      entries: page.map(rowToVersion),
      total,
      nextCursor: more && last ? encodeCursor({ seq: last.seq }) : undefined,
    };
  }

  async search(plan: SearchPlan): Promise<SearchResult> {
    return this.searcher.run(plan);
  }
}

/** Writes inside a unit of work; reads see the unit's own writes. */
class SqliteTx extends SqliteReader implements StoreTx {
  private readonly index: IndexWriter;

  constructor(db: Db, private readonly indexer: Indexer) {
    super(db);
    this.index = new IndexWriter(db);
  }

  async put(resource: Resource & { id: string }, options: WriteOptions = {}): Promise<StoredVersion> {
    const current = this.sql
      .get('SELECT rid, version, deleted FROM resources WHERE type = ? AND id = ?')
      .get(resource.resourceType, resource.id) as { rid: number; version: number; deleted: number } | undefined;
    checkIfMatch(resource.resourceType, resource.id, current, options);
    const version = (current?.version ?? 0) + 1;
    const lastUpdated = nextInstant(current ? this.lastUpdatedOf(current.rid) : undefined);
    const stored = {
      ...resource,
      meta: { ...resource.meta, versionId: String(version), lastUpdated },
    } as Resource;
    const method = options.method ?? (current && !current.deleted ? 'PUT' : 'POST');
    const seq = this.insertVersion(resource.resourceType, resource.id, version, lastUpdated, false, method, options.custodian, JSON.stringify(stored));
    const rid = this.upsertCurrent(current?.rid, resource.resourceType, resource.id, version, seq, lastUpdated, false, options.custodian);
    this.index.write(rid, resource.resourceType, this.indexer(stored));
    return {
      type: resource.resourceType,
      id: resource.id,
      versionId: String(version),
      lastUpdated,
      deleted: false,
      method,
      resource: stored,
      ...(options.custodian ? { custodian: options.custodian } : {}),
    };
  }

  async remove(type: string, id: string, options: WriteOptions = {}): Promise<StoredVersion | undefined> {
    const current = this.sql
      .get('SELECT rid, version, deleted, custodian FROM resources WHERE type = ? AND id = ?')
      .get(type, id) as { rid: number; version: number; deleted: number; custodian: string | null } | undefined;
    checkIfMatch(type, id, current, options);
    if (!current || current.deleted) return undefined;
    const version = current.version + 1;
    const lastUpdated = nextInstant(this.lastUpdatedOf(current.rid));
    const custodian = options.custodian ?? current.custodian ?? undefined;
    const seq = this.insertVersion(type, id, version, lastUpdated, true, 'DELETE', custodian, null);
    this.upsertCurrent(current.rid, type, id, version, seq, lastUpdated, true, custodian);
    this.index.clear(current.rid);
    return { type, id, versionId: String(version), lastUpdated, deleted: true, method: 'DELETE' };
  }

  /** Re-indexes up to `limit` current resources with rid > `afterRid`; returns the last rid seen. */
  reindexAfter(afterRid: number, limit: number): { lastRid: number; count: number } {
    const rows = this.sql
      .get(
        'SELECT r.rid, r.type, v.content FROM resources r JOIN versions v ON v.seq = r.seq WHERE r.rid > ? AND r.deleted = 0 ORDER BY r.rid LIMIT ?',
      )
      .all(afterRid, limit) as { rid: number; type: string; content: string }[];
    for (const row of rows) this.index.write(row.rid, row.type, this.indexer(JSON.parse(row.content) as Resource));
    return { lastRid: rows.length ? rows[rows.length - 1]!.rid : afterRid, count: rows.length };
  }

  private lastUpdatedOf(rid: number): string {
    return (this.sql
      .get('SELECT last_updated FROM resources WHERE rid = ?').get(rid) as { last_updated: string }).last_updated;
  }

  private insertVersion(
    type: string, id: string, version: number, lastUpdated: string, deleted: boolean,
    method: string, custodian: string | undefined, content: string | null,
  ): number {
    const info = this.sql
      .get(
        'INSERT INTO versions (type, id, version, last_updated, deleted, method, custodian, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(type, id, version, lastUpdated, deleted ? 1 : 0, method, custodian ?? null, content);
    return Number(info.lastInsertRowid);
  }

  private upsertCurrent(
    rid: number | undefined, type: string, id: string, version: number, seq: number,
    lastUpdated: string, deleted: boolean, custodian: string | undefined,
  ): number {
    if (rid === undefined) {
      return Number(this.sql
      .get('INSERT INTO resources (type, id, version, seq, last_updated, deleted, custodian) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(type, id, version, seq, lastUpdated, deleted ? 1 : 0, custodian ?? null).lastInsertRowid);
    }
    this.sql
      .get('UPDATE resources SET version = ?, seq = ?, last_updated = ?, deleted = ?, custodian = ? WHERE rid = ?')
        .run(version, seq, lastUpdated, deleted ? 1 : 0, custodian ?? null, rid);
    return rid;
  }
}

function checkIfMatch(
  type: string,
  id: string,
  current: { version: number; deleted: number } | undefined,
  options: WriteOptions,
): void {
  if (options.ifMatchVersion === undefined) return;
  const live = current && !current.deleted ? String(current.version) : undefined;
  if (live !== options.ifMatchVersion) throw new VersionConflictError(type, id, live);
}

/** Now, but strictly after `previous`, so a resource's versions are ordered by lastUpdated too. */
function nextInstant(previous: string | undefined): string {
  const now = Date.now();
  const prev = previous ? Date.parse(previous) : 0;
  return new Date(Math.max(now, prev + 1)).toISOString();
}

/** Computes a resource's search index rows (see src/search/extract.ts). */
export type Indexer = (resource: Resource) => IndexRows;

export interface SqliteStoreOptions {
  /** Without one, nothing is indexed and only _id/_lastUpdated searches work (store unit tests). */
  indexer?: Indexer;
}

/** Opens (creating when needed) the embedded store at `file`, or a throwaway one for ':memory:'. */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): Store {
  const ephemeral = file === ':memory:';
  // ':memory:' still needs two connections (committed reads vs. the open unit of work), so it
  // lives in a private temporary file that close() removes.
  const path = ephemeral ? join(tmpdir(), `linkcare-${randomUUID()}.sqlite`) : file;
  mkdirSync(dirname(path), { recursive: true });
  const writer = openConnection(path, false);
  writer.exec(DDL);
  writer.exec(INDEX_DDL);
  writer.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
  const reader = openConnection(path, true);
  const mutex = new Mutex();
  const committed = new SqliteReader(reader);
  const tx = new SqliteTx(writer, options.indexer ?? (() => emptyRows()));
  let closed = false;

  return {
    kind: 'sqlite',
    read: (type, id) => committed.read(type, id),
    vread: (type, id, v) => committed.vread(type, id, v),
    history: (q) => committed.history(q),
    search: (plan) => committed.search(plan),
    unitOfWork<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
      return mutex.run(async () => {
        if (closed) throw new Error('store is closed');
        writer.exec('BEGIN IMMEDIATE');
        try {
          const result = await work(tx);
          writer.exec('COMMIT');
          return result;
        } catch (err) {
          if (writer.inTransaction) writer.exec('ROLLBACK');
          throw err;
        }
      });
    },
    async reindex(opts = {}) {
      const batchSize = opts.batchSize ?? 500;
      let afterRid = 0;
      let done = 0;
      for (;;) {
        const r = await this.unitOfWork(async () => tx.reindexAfter(afterRid, batchSize));
        done += r.count;
        opts.onBatch?.(done);
        if (r.count < batchSize) return done;
        afterRid = r.lastRid;
      }
    },
    async ping() {
      reader.prepare('SELECT 1').get();
    },
    async close() {
      if (closed) return;
      // Wait for the unit of work in progress, then close.
      await mutex.run(async () => {
        closed = true;
      });
      reader.close();
      writer.close();
      if (ephemeral) for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    },
  };
}
