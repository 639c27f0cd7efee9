/**
 * Group commit for the audit events of reads: requests that finish while a unit of work is
 * committing wait for the next one and share it, so a busy server commits once per batch instead
 * of once per read. Each request still answers only after its events are committed.
 */
import type { Store } from '../store/port';
import type { AuditTrail } from './recorder';

interface Waiting {
  trail: AuditTrail;
  resolve(): void;
  reject(err: unknown): void;
}

/** Most trails written in one unit of work, so one batch never holds the writer for long. */
const MAX_BATCH = 256;

export class AuditGroupCommit {
  private queue: Waiting[] = [];
  private draining = false;

  constructor(private readonly store: Store) {}

  /** Writes the trail's pending entries; resolves once they are committed. */
  commit(trail: AuditTrail): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ trail, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        // Start after the current I/O phase: requests handled in it join the same batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          // A unit the store runs again writes every trail again (AuditTrail.write keeps its entries).
          await this.store.unitOfWork(async (tx) => {
            for (const w of batch) await w.trail.write(tx);
          });
          for (const w of batch) {
            w.trail.committed();
            w.resolve();
          }
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
