/**
 * Checkpoints on a worker thread. A checkpoint copies the pages committed to the write-ahead log
 * back into the database file (https://www.sqlite.org/pragma.html#pragma_wal_checkpoint). Left to SQLite, it runs
 * inside whichever COMMIT crosses `wal_autocheckpoint`, on the main thread: with every audited
 * read committing, that cost about a tenth of the server's CPU time under load. Here a second
 * connection on its own thread checkpoints every interval instead (PASSIVE: it never waits for, nor
 * blocks, the writer or the readers), and the writer's auto-checkpoint stays as a backstop should
 * the worker ever fall behind or die.
 */
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints. */
const INTERVAL_MS = 500;

// Plain JavaScript evaluated in the worker, so it runs the same from TypeScript sources (tests,
// tsx) and from the compiled build. The driver's path comes from the main thread's resolution.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('cache_size = -2000');
const tick = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: the next tick retries */ }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** A running background checkpointer. */
export interface Checkpointer {
  /** Stops the worker and closes its connection; resolves when the thread has exited. */
  stop(): Promise<void>;
}

/** Starts checkpointing the WAL database at `file` on a worker thread. */
export function startCheckpointer(file: string, intervalMs = INTERVAL_MS): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, intervalMs, driver: require.resolve('better-sqlite3') } });
  // The worker never keeps the process alive, and a failure in it only loses the optimisation:
  // the writer's own auto-checkpoint still bounds the log.
  worker.unref();
  worker.on('error', () => undefined);
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (worker.threadId === -1) return resolve();
        worker.once('exit', () => resolve());
        // Unreferenced, the thread's exit would not keep an otherwise idle process waiting for it.
        worker.ref();
        worker.postMessage('stop');
      });
      return stopped;
    },
  };
}
