/**
 * The MongoDB store (mongoose connection, native collections). A unit of work is one
 * multi-document transaction (snapshot read concern, majority write concern), retried as a whole
 * on TransientTransactionError and its commit retried on UnknownTransactionCommitResult
 * (https://www.mongodb.com/docs/manual/core/transactions-in-applications/). Transactions need a
 * replica set (or a sharded cluster); against a standalone server the store refuses to start
 * unless `allowStandalone` (development only: no atomicity, `supportsTransactions` is false).
 * No state lives in the process: sequence numbers, the audit head and job claims are in the database.
 */
import { reindexInBatches } from '../versioning';
import mongoose from 'mongoose';
import { ConfigError } from '../../config';
import { Mutex } from '../mutex';
import type { Store, StoreTx } from '../port';
import { emptyRows } from '../../search/index-rows';
import { ensureIndexes } from './indexes';
import { claimJobs, getJob, listJobs, updateJob } from './jobs';
import { type Collections, MongoReader, collectionsOf } from './reader';
import { type Indexer, MongoTx } from './tx';

export interface MongoStoreOptions {
  indexer?: Indexer;
  /** Development only: run on a standalone server, without transactions. */
  allowStandalone?: boolean;
  /** How long to wait for a server at start-up (default 10 s). */
  serverSelectionTimeoutMS?: number;
}

/** The MongoDB store; `supportsTransactions` is false only on an allowed standalone server. */
export interface MongoStore extends Store {
  readonly supportsTransactions: boolean;
  /** The collections, for migration and tests. */
  readonly collections: Collections;
}

/** Attempts of one unit of work before giving up on transient conflicts. */
const MAX_ATTEMPTS = 60;

function hasLabel(err: unknown, label: string): boolean {
  const e = err as { hasErrorLabel?: (l: string) => boolean; errorLabels?: string[]; errorLabelSet?: Set<string> } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.hasErrorLabel === 'function') return e.hasErrorLabel(label);
  return Array.isArray(e.errorLabels) && e.errorLabels.includes(label);
}

/** Jittered exponential backoff, capped, so conflicting units do not retry in lock-step. */
const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 2 ** attempt)));

/** Whether the server can run transactions: a replica set member or a mongos. */
async function transactionCapable(db: mongoose.mongo.Db): Promise<boolean> {
  const hello = (await db.admin().command({ hello: 1 })) as { setName?: string; msg?: string };
  return Boolean(hello.setName) || hello.msg === 'isdbgrid';
}

/** Connects to `url`, checks the deployment, creates the indexes; refuses a standalone server unless allowed. */
export async function openMongoStore(url: string, options: MongoStoreOptions = {}): Promise<MongoStore> {
  const conn = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
    // Writes are acknowledged by a majority and survive a primary failover.
    writeConcern: { w: 'majority' },
    readConcern: { level: 'majority' },
    retryWrites: true,
    autoIndex: false,
    autoCreate: false,
  });
  await conn.asPromise();
  const db = conn.db!;
  const client = conn.getClient();
  const supportsTransactions = await transactionCapable(db);
  if (!supportsTransactions && !options.allowStandalone) {
    await conn.close();
    throw new ConfigError(
      'The MongoDB server is a standalone: linkcare needs a replica set (transactions). Start mongod with --replSet and rs.initiate(), ' +
        'or set MONGODB_ALLOW_STANDALONE=1 for development (no atomic units of work; transaction Bundles are refused).',
    );
  }
  await ensureIndexes(db);
  const c = collectionsOf(db);
  const indexer = options.indexer ?? (() => emptyRows());
  const committed = new MongoReader(c, undefined);
  // Only for the standalone development mode: one unit at a time in this process.
  const mutex = new Mutex();
  let closed = false;

  async function inTransaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const session = client.startSession();
      try {
        session.startTransaction({ readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' }, readPreference: 'primary' });
        let result: T;
        try {
          result = await work(new MongoTx(c, session, indexer));
        } catch (err) {
          await session.abortTransaction().catch(() => undefined);
          // A conflict the work caught and rethrew as something else still shows in the label of the
          // aborted transaction's commit; here it is the error itself.
          if (hasLabel(err, 'TransientTransactionError') && attempt < MAX_ATTEMPTS) {
            await backoff(attempt);
            continue;
          }
          throw err;
        }
        try {
          await commit(session);
        } catch (err) {
          if (hasLabel(err, 'TransientTransactionError') && attempt < MAX_ATTEMPTS) {
            await backoff(attempt);
            continue;
          }
          throw err;
        }
        return result;
      } finally {
        await session.endSession();
      }
    }
  }

  async function commit(session: mongoose.mongo.ClientSession): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await session.commitTransaction();
        return;
      } catch (err) {
        if (hasLabel(err, 'UnknownTransactionCommitResult') && i < 5) continue;
        throw err;
      }
    }
  }

  const unitOfWork = <T>(work: (tx: StoreTx) => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('store is closed'));
    if (supportsTransactions) return inTransaction(work);
    return mutex.run(() => work(new MongoTx(c, undefined, indexer)));
  };

  return {
    kind: 'mongodb',
    supportsTransactions,
    collections: c,
    read: (type, id) => committed.read(type, id),
    vread: (type, id, v) => committed.vread(type, id, v),
    history: (q) => committed.history(q),
    search: (plan) => committed.search(plan),
    enrolments: (patientId) => committed.enrolments(patientId),
    stamp: (key) => committed.stamp(key),
    unitOfWork,
    auditChain: (afterSeq, limit) => committed.auditChain(afterSeq, limit),
    auditHead: () => committed.auditHead(),
    async purge() {
      // Deleted documents are gone from queries at once; WiredTiger reuses their space. The oplog
      // window, compact and ageing out backups are operational steps: docs/operations.md, "Erasure on MongoDB".
    },
    reindex: (opts = {}) => reindexInBatches((after, size) => unitOfWork((tx) => (tx as MongoTx).reindexAfter(after, size)), opts),
    claimJobs: (queue, opts) => claimJobs(c.jobs, queue, opts),
    updateJob: (id, changes, expectState) => updateJob(c.jobs, id, changes, expectState),
    getJob: (id) => getJob(c.jobs, id),
    listJobs: (queue, opts) => listJobs(c.jobs, queue, opts),
    async ping() {
      await db.command({ ping: 1 });
    },
    async close() {
      if (closed) return;
      closed = true;
      await conn.close();
    },
  };
}
