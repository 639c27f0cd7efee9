/**
 * Subscription.channel.header holds the credentials the receiver checks ("Authorization: Bearer
 * …"). They are stored (the worker sends them) but never shown: every Subscription leaving the
 * server carries each header's name with the value replaced by MASKED_VALUE, for its author too
 * (who wrote the value and needs no copy) and for everyone else in the organisation who may read
 * it. A client that writes a Subscription back as read, masked values included, keeps the stored
 * values, but only while the endpoint stays the same: a masked secret never follows a
 * Subscription to a new endpoint, or anyone allowed to update it could send the secret to a
 * receiver of their own and read it there.
 */
import type { Subscription } from '@medplum/fhirtypes';
import type { WriteEvent } from '../fhir/rules';
import { unprocessable } from '../fhir/outcome';
import { headerParts } from './channel';

/** What a header value reads as in responses. */
export const MASKED_VALUE = '[hidden]';

/** A header line with its value masked (a line that does not parse is masked whole). */
function maskLine(line: string): string {
  const parts = headerParts(line);
  return parts ? `${parts[0]}: ${MASKED_VALUE}` : MASKED_VALUE;
}

/** Masks the header values of a Subscription about to be sent in a response (mutates it). */
export function maskSubscription(resource: Record<string, unknown>): void {
  const channel = resource.channel as { header?: unknown } | undefined;
  if (channel && Array.isArray(channel.header)) channel.header = channel.header.map((l) => (typeof l === 'string' ? maskLine(l) : MASKED_VALUE));
}

/**
 * Replaces masked header values by the stored ones (same name, in order). 422 at the header when
 * there is nothing to keep: a new Subscription, another endpoint, or no stored header of that name.
 */
function restoreMasked(sub: Subscription, previous: Subscription | undefined): Subscription {
  const lines = sub.channel.header;
  if (!lines?.some((l) => headerParts(l)?.[1] === MASKED_VALUE)) return sub;
  const sameEndpoint = previous !== undefined && previous.channel?.endpoint === sub.channel.endpoint;
  const stored = sameEndpoint ? [...(previous.channel.header ?? [])] : [];
  const header = lines.map((line, i) => {
    const parts = headerParts(line);
    if (parts?.[1] !== MASKED_VALUE) return line;
    const name = parts[0].toLowerCase();
    const at = stored.findIndex((s) => headerParts(s)?.[0].toLowerCase() === name);
    if (at < 0) {
      throw unprocessable(
        sameEndpoint
          ? `channel.header ${parts[0]} is masked and no stored value of that name exists: send its value`
          : 'channel.header values are masked in responses; send the values again when creating a Subscription or changing its endpoint',
        `Subscription.channel.header[${i}]`,
      );
    }
    return stored.splice(at, 1)[0]!;
  });
  return { ...sub, channel: { ...sub.channel, header } };
}

/**
 * A PATCH is applied to the stored resource, header values included: one that moves the endpoint
 * while those values ride along would hand them to the new receiver without its author ever
 * having known them. Such a move must replace the headers (or be a PUT that sends them).
 */
function checkPatchMove(sub: Subscription, previous: Subscription): void {
  if (previous.channel?.endpoint === sub.channel.endpoint) return;
  // A PATCH applies to the masked view (acceptRule.shown), so stored values ride along as masked ones.
  if ((sub.channel.header ?? []).some((l) => headerParts(l)?.[1] === MASKED_VALUE)) {
    throw unprocessable(
      'A PATCH may not move a Subscription with channel.header values to another endpoint: replace the headers too, or PUT the Subscription with them',
      'Subscription.channel.endpoint',
    );
  }
}

/** The Subscription a write stores, masked header values resolved (see above). */
export function resolveMaskedHeaders(event: WriteEvent, sub: Subscription): Subscription {
  const previous = event.previous && !event.previous.deleted ? (event.previous.resource as Subscription | undefined) : undefined;
  if (event.action === 'patch' && previous) checkPatchMove(sub, previous);
  return restoreMasked(sub, previous);
}
