/**
 * Moving the audit journal into the resource tables. A read's AuditEvent costs the request two
 * appended rows (chain link and journal row); its version, resource row and index rows are written
 * later, many events per unit of work: every second in the background, and before any read that
 * could return AuditEvents, so an auditor always sees every event committed before the query.
 */
import type { Predicate, SearchPlan } from '../../search/plan';

const AUDIT = 'AuditEvent';
/** Events per unit of work: small enough not to hold the writer for long. */
const BATCH = 250;
const INTERVAL_MS = 1000;

function predicateReaches(p: Predicate): boolean {
  switch (p.kind) {
    case 'has':
      return p.sourceType === AUDIT || predicateReaches(p.inner);
    case 'chain':
      return p.targetType === AUDIT || predicateReaches(p.inner);
    case 'or':
      return p.any.some(predicateReaches);
    case 'and':
      return p.all.some(predicateReaches);
    case 'not':
      return predicateReaches(p.inner);
    default:
      return false;
  }
}

/** True when the plan's matches, includes, chains or `_has` could involve an AuditEvent. */
export function planReachesAuditEvents(plan: SearchPlan): boolean {
  if (!plan.types.length || plan.types.includes(AUDIT)) return true;
  if (plan.revinclude?.some((s) => s.sourceType === AUDIT || s.sourceType === '*')) return true;
  if (plan.include?.some((s) => s.targetType === undefined || s.targetType === AUDIT)) return true;
  return plan.where.some(predicateReaches);
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
