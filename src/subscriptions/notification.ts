/**
 * The notification a rest-hook receives. Either an R4 ping (POST, empty body;
 * http://hl7.org/fhir/R4/subscription.html#2.46.7.2) or, for id-only channels, a `history`
 * Bundle (http://hl7.org/fhir/R4/bundle.html) whose one entry names the changed version:
 * fullUrl, request and response only — `entry.resource` is never set.
 */
import type { Bundle, Subscription } from '@medplum/fhirtypes';
import { channelHeaders, payloadMode } from './channel';
import type { DeliveryPayload } from './outbox';

/** An HTTP request ready to send. */
export interface OutgoingNotification {
  endpoint: string;
  headers: Record<string, string>;
  /** Absent for a ping. */
  body?: string;
}

/** The id-only history Bundle for one delivery (bdl-3/bdl-4: history entries carry request and response). */
export function idOnlyBundle(baseUrl: string, d: DeliveryPayload, now: Date): Bundle {
  const created = d.action === 'create';
  return {
    resourceType: 'Bundle',
    type: 'history',
    timestamp: now.toISOString(),
    entry: [
      {
        fullUrl: `${baseUrl}/${d.resourceType}/${d.id}`,
        request: { method: d.method, url: d.method === 'POST' ? d.resourceType : `${d.resourceType}/${d.id}` },
        response: { status: created ? '201' : '200', etag: `W/"${d.versionId}"`, lastModified: d.lastUpdated },
      },
    ],
  };
}

/** Builds the request for one delivery of `sub`. */
export function buildNotification(sub: Subscription, d: DeliveryPayload, baseUrl: string, now: Date): OutgoingNotification {
  const channel = sub.channel;
  const headers = channelHeaders(channel);
  if (payloadMode(channel) === 'empty') return { endpoint: channel.endpoint!, headers };
  headers['content-type'] = 'application/fhir+json';
  return { endpoint: channel.endpoint!, headers, body: JSON.stringify(idOnlyBundle(baseUrl, d, now)) };
}
