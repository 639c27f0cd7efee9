/**
 * The write rule on Subscription: checks criteria and channel, then the server's acceptance
 * (http://hl7.org/fhir/R4/subscription.html#2.46.6): a requested subscription becomes `active`
 * at once. `status` and `error` are otherwise the server's: a client may turn a subscription
 * `off`; any other write (re)activates it and clears the delivery error.
 */
import type { Resource, Subscription } from '@medplum/fhirtypes';
import type { WriteRule } from '../fhir/rules';
import { checkCriteria } from './criteria';
import { checkChannel } from './channel';
import { maskSubscription, resolveMaskedHeaders } from './mask';

/** The Subscription to store: checked, with the status and error the server decides. */
export function acceptSubscription(sub: Subscription, now: Date): Subscription {
  const { error: _clientError, ...rest } = sub;
  // Past its end a subscription is off (R4 Subscription.end: "the time for the server to turn the subscription off").
  const ended = sub.end !== undefined && Date.parse(sub.end) <= now.getTime();
  // Trimmed, so that the criteria index (a prefix search on the type name) finds it.
  return { ...rest, criteria: sub.criteria.trim(), status: sub.status === 'off' || ended ? 'off' : 'active' };
}

/** Whether a stored subscription should be notified now (not off, not past its end). */
export function isLive(sub: Subscription, now: Date): boolean {
  if (sub.status !== 'active' && sub.status !== 'error') return false;
  return sub.end === undefined || Date.parse(sub.end) > now.getTime();
}

export const acceptRule: WriteRule = {
  name: 'subscription-accept',
  types: ['Subscription'],
  async before(ctx, _tx, event): Promise<Resource | void> {
    if (!event.resource) return; // delete: nothing to check; pending deliveries are cancelled by the worker
    // Header values read back masked keep the stored ones (./mask.ts), then everything is checked.
    const sub = resolveMaskedHeaders(event, event.resource as Subscription);
    checkCriteria(ctx, event.principal, sub.criteria);
    checkChannel(sub, { httpsOnly: ctx.config.production, allowPrivate: ctx.config.subscriptionPrivateEndpoints });
    return acceptSubscription(sub, new Date());
  },
  // A PATCH works on the masked view: it can neither test a guess of a header value nor copy one
  // into an element that is shown.
  shown(resource): Resource {
    const copy = structuredClone(resource) as unknown as Record<string, unknown>;
    maskSubscription(copy);
    return copy as unknown as Resource;
  },
};
