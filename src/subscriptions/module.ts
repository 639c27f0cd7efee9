/**
 * R4 rest-hook Subscriptions delivered from the durable outbox (docs/subscriptions.md):
 * the Subscription write rule (checks, acceptance), the outbox rule on every write, and the
 * delivery worker.
 */
import type { LinkcareModule } from '../modules';
import { acceptRule } from './accept';
import { outboxRule } from './outbox';
import { type SubscriptionOptions, resolveOptions } from './options';
import { deliveryWorker } from './worker';

/** Builds the module with delivery options (tests pass short intervals). */
export function createSubscriptionsModule(options: Partial<SubscriptionOptions> = {}): LinkcareModule {
  const o = resolveOptions(options);
  return {
    name: 'subscriptions',
    rules: [acceptRule, outboxRule],
    workers: [deliveryWorker(o)],
  };
}

/** The module with production defaults, as listed in src/modules.ts. */
export const subscriptionsModule: LinkcareModule = createSubscriptionsModule();
