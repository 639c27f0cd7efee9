/**
 * The outbox: after every write, in the same unit of work, one delivery job per live
 * Subscription whose criteria match the new version and whose holding organisation may see it.
 * The job exists exactly when the write commits, so no notification is lost to a crash between
 * commit and send, and none is sent for a write that rolled back.
 */
import type { Subscription } from '@medplum/fhirtypes';
import type { FhirContext } from '../fhir/context';
import type { WriteEvent, WriteRule } from '../fhir/rules';
import { OperationOutcomeError } from '../fhir/outcome';
import { MAX_COUNT, parseSearch } from '../search/parse';
import { resolveValueSets, storedValueSets } from '../search/value-sets';
import type { StoreTx, StoredVersion } from '../store/port';
import { isLive } from './accept';
import { matchPlan, splitCriteria, subscriberPrincipal } from './criteria';
import { DELIVERY_QUEUE } from './options';

/** What a delivery job carries: ids only, never content. */
export interface DeliveryPayload {
  subscriptionId: string;
  resourceType: string;
  id: string;
  versionId: string;
  /** How the version came about, for the id-only Bundle's request/response. */
  action: WriteEvent['action'];
  method: StoredVersion['method'];
  lastUpdated: string;
}

/**
 * Live subscriptions whose criteria are on `type`. The string index of `criteria` narrows the
 * search to those starting with the type name; the exact type is compared afterwards (a prefix
 * "Medication" also finds "MedicationRequest?…").
 */
/**
 * The change counter every Subscription write raises (outboxRule below, and the worker's status
 * writes in status.ts): the lists of subscriptions cached per type are checked against it.
 */
export const SUBSCRIPTION_STAMP = 'subscription';
/** A type's active or erroring subscriptions as of a stamp, per store (the search costs ~150 µs a write). */
const cached = new WeakMap<object, Map<string, { stamp: number; subscriptions: StoredVersion[] }>>();
/** Set in a unit of work that wrote a Subscription: what it sees is not committed, so it is not cached. */
const WROTE_SUBSCRIPTION = 'subscriptions:written';

async function subscriptionsOn(ctx: FhirContext, tx: StoreTx, type: string, now: Date): Promise<StoredVersion[]> {
  // Once per unit of work and type: a transaction Bundle of 50 Observations looks them up once.
  // A Subscription written earlier in the same unit changes the answer, so it clears the memo.
  const key = `subscriptions:${type}`;
  const memoised = tx.memo.get(key) as StoredVersion[] | undefined;
  if (memoised) return memoised;
  const found = (await candidatesOn(ctx, tx, type)).filter((v) => isLive(v.resource as Subscription, now));
  tx.memo.set(key, found);
  return found;
}

/** Subscriptions on `type` with status active or error: from the cache while the stamp has not moved. */
async function candidatesOn(ctx: FhirContext, tx: StoreTx, type: string): Promise<StoredVersion[]> {
  const stamp = await tx.stamp(SUBSCRIPTION_STAMP);
  let byType = cached.get(ctx.store);
  if (!byType) cached.set(ctx.store, (byType = new Map()));
  const hit = byType.get(type);
  if (hit && hit.stamp === stamp) return hit.subscriptions;
  const subscriptions = await liveSubscriptionsOn(ctx, tx, type);
  if (!tx.memo.has(WROTE_SUBSCRIPTION)) byType.set(type, { stamp, subscriptions });
  return subscriptions;
}

async function liveSubscriptionsOn(ctx: FhirContext, tx: StoreTx, type: string): Promise<StoredVersion[]> {
  const { plan } = parseSearch(ctx.registry, ['Subscription'], [['status', 'active,error'], ['criteria', type]]);
  plan.count = MAX_COUNT;
  plan.total = 'none';
  const found: StoredVersion[] = [];
  for (;;) {
    const page = await tx.search(plan);
    for (const v of page.matches) {
      const sub = v.resource as Subscription | undefined;
      if (sub && v.custodian && splitCriteria(sub.criteria)?.type === type) found.push(v);
    }
    if (!page.nextCursor) return found;
    plan.cursor = page.nextCursor;
  }
}

/** Whether version `v` matches the subscription's criteria and is visible to its organisation. */
async function notifies(ctx: FhirContext, tx: StoreTx, subscription: StoredVersion, v: StoredVersion): Promise<boolean> {
  const criteria = splitCriteria((subscription.resource as Subscription).criteria)!;
  let plan;
  try {
    plan = matchPlan(ctx, criteria, v.id, subscriberPrincipal(subscription.id, subscription.custodian!));
  } catch (err) {
    // Criteria accepted earlier that no longer parse (a parameter was withdrawn): the
    // subscription is dormant; the client's write must not fail because of it.
    if (err instanceof OperationOutcomeError) return false;
    throw err;
  }
  await resolveValueSets(plan, storedValueSets((p) => tx.search(p)));
  return (await tx.search(plan)).matches.length > 0;
}

/** Enqueues the deliveries a write causes; returns how many. */
export async function enqueueDeliveries(ctx: FhirContext, tx: StoreTx, event: WriteEvent, version: StoredVersion): Promise<number> {
  // A deleted version matches no search; R4 rest-hook notifies about matching resources only.
  if (version.deleted) return 0;
  const now = new Date();
  let queued = 0;
  for (const subscription of await subscriptionsOn(ctx, tx, version.type, now)) {
    if (!(await notifies(ctx, tx, subscription, version))) continue;
    const payload: DeliveryPayload = {
      subscriptionId: subscription.id,
      resourceType: version.type,
      id: version.id,
      versionId: version.versionId,
      action: event.action,
      method: version.method,
      lastUpdated: version.lastUpdated,
    };
    await tx.enqueueJob(DELIVERY_QUEUE, payload, { owner: subscription.custodian });
    queued++;
  }
  return queued;
}

export const outboxRule: WriteRule = {
  name: 'subscription-outbox',
  async after(ctx, tx, event, version) {
    // A Subscription changed in this unit of work: what was memoised for it is stale.
    if (version.type === 'Subscription') {
      for (const k of [...tx.memo.keys()]) if (k.startsWith('subscriptions:')) tx.memo.delete(k);
      tx.memo.set(WROTE_SUBSCRIPTION, true);
      await tx.touch(SUBSCRIPTION_STAMP);
    }
    if (!(await enqueueDeliveries(ctx, tx, event, version))) return;
    // The poll this kicks claims jobs through the store, which waits for this unit of work to
    // commit (the embedded store serialises them), so it finds the new jobs at once. Should a
    // store not wait, the regular poll delivers them instead.
    ctx.workers?.kick(DELIVERY_QUEUE);
  },
};
