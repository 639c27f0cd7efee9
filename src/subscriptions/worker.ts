/**
 * The delivery worker on the outbox queue: sends each notification, retries failures with
 * exponential backoff (the job goes back to `queued` with a later notBefore, so a retry survives
 * a restart and may be taken by any instance), gives up after maxAttempts (`failed`), and keeps
 * Subscription.status/error in step. Delivery is at least once: a crash after the receiver
 * answered but before the job was marked done sends the notification again.
 */
import type { Logger } from 'pino';
import type { Subscription } from '@medplum/fhirtypes';
import type { FhirContext } from '../fhir/context';
import type { Worker } from '../jobs/workers';
import type { Job, JobChanges, StoredVersion } from '../store/port';
import { AuditTrail } from '../audit/recorder';
import { patientsOf } from '../audit/entries';
import type { AuditOutcome } from '../audit/events';
import { isLive } from './accept';
import { buildNotification } from './notification';
import type { DeliveryPayload } from './outbox';
import { DELIVERY_QUEUE, type SubscriptionOptions, backoffMs } from './options';
import { sendNotification } from './send';
import { recordDeliveryState } from './status';

/** Ends a job; compare-and-set on `running` so a job another instance took over is left alone. */
async function endJob(ctx: FhirContext, job: Job, changes: JobChanges): Promise<void> {
  await ctx.store.updateJob(job.id, { leaseUntil: null, ...changes }, 'running');
}

/** Why a delivery should not be attempted any more, or undefined when it should. */
function obsolete(sub: Subscription | undefined, target: StoredVersion | undefined, now: Date): string | undefined {
  if (!sub) return 'subscription deleted';
  if (!isLive(sub, now)) return 'subscription off or ended';
  // An erased client's resources are gone with all their versions: nothing left to announce.
  if (!target) return 'resource erased';
  return undefined;
}

/**
 * Records the attempt in the audit trail, held by the subscribing organisation: a notification
 * tells a system outside linkcare that this client's record changed, so it is a disclosure.
 */
async function audit(ctx: FhirContext, job: Job, d: DeliveryPayload, org: string | undefined, target: StoredVersion, outcome: AuditOutcome, desc?: string): Promise<void> {
  // The server acts for the subscription: no user, no roles; the organisation holds the event.
  const trail = new AuditTrail({ principal: { sub: `Subscription/${d.subscriptionId}`, org: org ?? 'unknown', roles: [] }, requestId: job.id });
  trail.add({
    action: 'E',
    subtype: '$subscription-notification',
    outcome,
    ...(desc ? { outcomeDesc: desc } : {}),
    // A Patient is named by its client code only (its id would outlive an erasure in the trail).
    references: [`Subscription/${d.subscriptionId}`, ...(d.resourceType === 'Patient' ? [] : [`${d.resourceType}/${d.id}/_history/${d.versionId}`])],
    patientIds: patientsOf([target]),
  });
  await ctx.audit.commit(trail);
}

/** Runs one delivery job to its next state. */
export async function runDelivery(ctx: FhirContext, job: Job, log: Logger, o: SubscriptionOptions): Promise<void> {
  const d = job.payload as DeliveryPayload;
  const now = new Date();
  const stored = await ctx.store.read('Subscription', d.subscriptionId);
  const sub = stored && !stored.deleted ? (stored.resource as Subscription) : undefined;
  const target = sub ? await ctx.store.read(d.resourceType, d.id) : undefined;
  const skip = obsolete(sub, target, now);
  const facts = { queue: DELIVERY_QUEUE, job: job.id, subscription: d.subscriptionId, attempt: job.attempts };
  if (skip) {
    await endJob(ctx, job, { state: 'cancelled', error: skip });
    log.info({ ...facts, outcome: 'cancelled', why: skip }, 'subscription delivery');
    return;
  }
  const result = await sendNotification(buildNotification(sub!, d, ctx.config.baseUrl, now), {
    timeoutMs: o.timeoutMs,
    allowPrivate: ctx.config.subscriptionPrivateEndpoints,
  });
  await audit(ctx, job, d, stored!.custodian, target!, result.ok ? '0' : '4', result.ok ? undefined : result.reason);
  if (result.ok) {
    await endJob(ctx, job, { state: 'done', error: null });
    await recordDeliveryState(ctx.store, d.subscriptionId, { status: 'active' });
    log.info({ ...facts, outcome: 'delivered', status: result.status }, 'subscription delivery');
    return;
  }
  if (job.attempts >= o.maxAttempts) {
    const error = `Delivery failed: ${result.reason}; gave up after ${job.attempts} attempts`;
    await endJob(ctx, job, { state: 'failed', error });
    await recordDeliveryState(ctx.store, d.subscriptionId, { status: 'error', error });
    log.warn({ ...facts, outcome: 'failed', detail: result.detail }, 'subscription delivery');
    return;
  }
  const wait = backoffMs(job.attempts, o);
  await endJob(ctx, job, { state: 'queued', error: result.reason, notBefore: new Date(Date.now() + wait).toISOString() });
  await recordDeliveryState(ctx.store, d.subscriptionId, { status: 'error', error: `Delivery failed: ${result.reason}; retrying` });
  // The specific cause (an error code, "no answer", a refused destination) is for operators only.
  log.info({ ...facts, outcome: 'retry', retryInMs: wait, detail: result.detail }, 'subscription delivery');
}

/** The worker on the subscription-delivery queue. */
export function deliveryWorker(o: SubscriptionOptions): Worker {
  return {
    queue: DELIVERY_QUEUE,
    intervalMs: o.pollMs,
    leaseMs: o.leaseMs,
    batch: o.batch,
    run: (ctx, job, log) => runDelivery(ctx, job, log, o),
  };
}
