/**
 * The server's own writes of Subscription.status and .error after a delivery
 * (http://hl7.org/fhir/R4/subscription.html#2.46.6: `error` when notifications fail, back to
 * `active` when they succeed). They go to the store directly, in their own unit of work, keeping
 * the holding organisation; write rules do not run (this is not a client's write).
 */
import type { Subscription } from '@medplum/fhirtypes';
import type { Store } from '../store/port';
import { SUBSCRIPTION_STAMP } from './outbox';

/** The delivery state to record. */
export type DeliveryState = { status: 'active' } | { status: 'error'; error: string };

/**
 * Records the state on the current version unless it is already there, or the subscription was
 * turned off or deleted meanwhile (a client's decision wins). Returns whether a version was written.
 */
export async function recordDeliveryState(store: Store, subscriptionId: string, state: DeliveryState): Promise<boolean> {
  return store.unitOfWork(async (tx) => {
    const current = await tx.read('Subscription', subscriptionId);
    const sub = current?.resource as Subscription | undefined;
    if (!current || current.deleted || !sub || (sub.status !== 'active' && sub.status !== 'error')) return false;
    const error = state.status === 'error' ? state.error : undefined;
    // Unchanged state writes nothing, so a receiver that stays down does not grow the history.
    if (sub.status === state.status && sub.error === error) return false;
    const { error: _old, ...rest } = sub;
    const next: Subscription & { id: string } = { ...rest, id: subscriptionId, status: state.status, ...(error ? { error } : {}) };
    await tx.put(next, { custodian: current.custodian, ifMatchVersion: current.versionId, method: 'PUT' });
    await tx.touch(SUBSCRIPTION_STAMP);
    return true;
  });
}
