/**
 * Moving the audit journal into the audit log (audit-log.ts). A read's AuditEvent costs the
 * request two appended rows (chain link and journal row); its version and key rows are written
 * later, many events per unit of work: every second in the background, and before any read that
 * could return AuditEvents, so an auditor always sees every event committed before the query.
 */
import type { SearchPlan } from '../../search/plan';
import { AUDIT } from './audit-log';

/** Events per unit of work: small enough not to hold the writer for long. */
const BATCH = 250;
const INTERVAL_MS = 1000;

/** True when the search could return AuditEvents: only a search of that type can (src/search/parse.ts keeps them apart). */
export function planReachesAuditEvents(plan: SearchPlan): boolean {
  return plan.types.includes(AUDIT);
}

export interface JournalPort {
  /** True when events wait in the journal (read on the committed connection). */
  pending(): boolean;
  /** Moves up to `limit` events in one unit of work; returns how many. */
  move(limit: number): Promise<number>;
}

/** Drains the journal on demand and on a timer. */
export class AuditJournalMover {
  private timer?: NodeJS.Timeout;
  private background = false;

  constructor(private readonly port: JournalPort) {}

  /** Moves every event committed so far. */
  async drain(): Promise<void> {
    while (this.port.pending()) {
      if ((await this.port.move(BATCH)) < BATCH) return;
    }
  }

  /** Starts the background drain (the timer does not keep the process alive). */
  start(): void {
    this.timer = setInterval(() => {
      if (this.background) return;
      this.background = true;
      // A failure (store closing, disk full) is retried on the next tick; the journal is durable.
      this.drain()
        .catch(() => undefined)
        .finally(() => (this.background = false));
    }, INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops the background drain. */
  stop(): void {
    clearInterval(this.timer);
  }
}
