/**
 * Tunables of subscription delivery. They are module options rather than configuration so that
 * tests (and deployments that build their own module list) can pass them to
 * `createSubscriptionsModule`; the defaults suit a production instance.
 */

/** The durable job queue that carries notifications (the outbox). */
export const DELIVERY_QUEUE = 'subscription-delivery';

export interface SubscriptionOptions {
  /** How often an idle worker looks for due deliveries. */
  pollMs: number;
  /** How long a claimed delivery is ours before another instance may retry it. */
  leaseMs: number;
  /** Deliveries claimed per poll. */
  batch: number;
  /** Time the receiver has to answer one notification. */
  timeoutMs: number;
  /** Attempts before a delivery is given up (the job ends `failed`). */
  maxAttempts: number;
  /** Wait after the first failure; doubled after each further failure. */
  backoffBaseMs: number;
  /** Longest wait between two attempts. */
  backoffCapMs: number;
}

export const DEFAULT_OPTIONS: SubscriptionOptions = {
  pollMs: 1000,
  // Jobs of a batch are sent one after another under leases taken together: the lease must
  // outlast a whole batch of timeouts (batch × timeoutMs), or a live worker loses its jobs.
  leaseMs: 120_000,
  batch: 10,
  timeoutMs: 5000,
  maxAttempts: 10,
  backoffBaseMs: 1000,
  backoffCapMs: 5 * 60_000,
};

/** Fills in defaults and refuses values that would make the worker misbehave. */
export function resolveOptions(given: Partial<SubscriptionOptions> = {}): SubscriptionOptions {
  const o = { ...DEFAULT_OPTIONS, ...given };
  for (const [name, value] of Object.entries(o)) {
    if (!Number.isFinite(value) || value < 1) throw new Error(`subscription option ${name} must be a positive number`);
  }
  if (o.backoffCapMs < o.backoffBaseMs) throw new Error('subscription option backoffCapMs must be at least backoffBaseMs');
  if (o.leaseMs <= o.batch * o.timeoutMs) throw new Error('subscription option leaseMs must exceed batch × timeoutMs');
  return o;
}

/**
 * Wait before the next attempt after `failures` failed ones: base · 2^(failures−1), capped.
 * Exponential backoff keeps a receiver that is down from being hammered while it recovers.
 */
export function backoffMs(failures: number, o: Pick<SubscriptionOptions, 'backoffBaseMs' | 'backoffCapMs'>): number {
  const exponent = Math.max(0, failures - 1);
  // 2^exponent overflows to Infinity long before it matters; the cap bounds it.
  return Math.min(o.backoffBaseMs * 2 ** exponent, o.backoffCapMs);
}
