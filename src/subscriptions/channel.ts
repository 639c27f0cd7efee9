/**
 * Subscription.channel (http://hl7.org/fhir/R4/subscription.html): what this server accepts and
 * how a notification is sent. Only `rest-hook`. Notifications never carry resource content
 * (confidentiality: a notification leaves the server without an access check at the receiver):
 *  - `payload` absent: an R4 "ping", a POST with an empty body;
 *  - `payload` application/fhir+json with the Subscriptions Backport extension
 *    backport-payload-content = `id-only`: a POST of a `history` Bundle whose entries hold only
 *    fullUrl, request and response (ids and versions, no resource);
 *  - anything else, in particular R4's plain payload (a PUT of the whole resource) or the
 *    backport's `full-resource`, is refused with 422.
 */
import type { Subscription, SubscriptionChannel } from '@medplum/fhirtypes';
import { unprocessable } from '../fhir/outcome';
import { isForbiddenHost } from './destination';

/** http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition-backport-payload-content.html */
export const PAYLOAD_CONTENT_URL = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content';

/** How a notification is sent. */
export type PayloadMode = 'empty' | 'id-only';

const FHIR_JSON = ['application/fhir+json', 'application/json'];

/** Header names a subscriber may not set: they belong to the HTTP exchange itself. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade', 'expect', 'proxy-authorization']);

/** RFC 9110 token for a field name; a value without control characters (no header injection). */
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*)$/;

/** The backport payload-content code on channel.payload, if any. */
function payloadContent(channel: SubscriptionChannel): string | undefined {
  const ext = (channel as { _payload?: { extension?: { url?: string; valueCode?: string }[] } })._payload?.extension;
  return ext?.find((e) => e.url === PAYLOAD_CONTENT_URL)?.valueCode;
}

/** The payload mode a (checked) channel asks for. */
export function payloadMode(channel: SubscriptionChannel): PayloadMode {
  return channel.payload && payloadContent(channel) === 'id-only' ? 'id-only' : 'empty';
}

/** A channel.header line's name and trimmed value, or undefined when it is not `Name: value`. */
export function headerParts(line: string): [name: string, value: string] | undefined {
  const m = HEADER_LINE.exec(line);
  return m ? [m[1]!, m[2]!.trim()] : undefined;
}

/** Splits channel.header lines into a header map (lines were checked on write). */
export function channelHeaders(channel: SubscriptionChannel): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of channel.header ?? []) {
    const parts = headerParts(line);
    if (parts) out[parts[0].toLowerCase()] = parts[1];
  }
  return out;
}

/** What a channel is checked against: the deployment's settings. */
export interface ChannelPolicy {
  httpsOnly: boolean;
  /** Loopback, private and link-local destinations allowed (docs/operations.md). */
  allowPrivate: boolean;
}

function checkEndpoint(endpoint: string | undefined, { httpsOnly, allowPrivate }: ChannelPolicy): void {
  const where = 'Subscription.channel.endpoint';
  if (!endpoint) throw unprocessable('A rest-hook channel needs an endpoint', where);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw unprocessable('channel.endpoint must be an absolute http(s) URL', where);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !httpsOnly)) {
    throw unprocessable(httpsOnly ? 'channel.endpoint must use https' : 'channel.endpoint must be an http or https URL', where);
  }
  // Credentials in the URL would end up wherever URLs are shown; channel.header is the place.
  if (url.username || url.password) throw unprocessable('Put credentials in channel.header, not in the endpoint URL', where);
  // Names are checked again, on the address they resolve to, at every delivery (./destination.ts).
  if (!allowPrivate && isForbiddenHost(url.hostname)) {
    throw unprocessable('channel.endpoint must be a public address: loopback, private, link-local and other internal destinations are refused', where);
  }
}

function checkPayload(channel: SubscriptionChannel): void {
  const where = 'Subscription.channel.payload';
  const content = payloadContent(channel);
  if (!channel.payload) {
    if (content && content !== 'empty') throw unprocessable('An id-only notification needs channel.payload application/fhir+json', where);
    return;
  }
  if (!FHIR_JSON.includes(channel.payload.split(';')[0]!.trim().toLowerCase())) {
    throw unprocessable('channel.payload may only be application/fhir+json', where);
  }
  if (content !== 'id-only' && content !== 'empty') {
    throw unprocessable(
      'Notifications never carry resource content: leave channel.payload empty, or mark it id-only with the extension ' + PAYLOAD_CONTENT_URL,
      where,
    );
  }
}

function checkHeaders(channel: SubscriptionChannel): void {
  (channel.header ?? []).forEach((line, i) => {
    const where = `Subscription.channel.header[${i}]`;
    const m = HEADER_LINE.exec(line);
    if (!m) throw unprocessable('Each channel.header must be "Name: value" on one line', where);
    if (RESERVED_HEADERS.has(m[1]!.toLowerCase())) throw unprocessable(`channel.header may not set ${m[1]}`, where);
  });
}

/** Checks the channel of a Subscription being written; throws 422 with the offending element. */
export function checkChannel(sub: Subscription, policy: ChannelPolicy): void {
  const channel = sub.channel;
  if (channel?.type !== 'rest-hook') throw unprocessable('Only rest-hook channels are supported', 'Subscription.channel.type');
  checkEndpoint(channel.endpoint, policy);
  checkPayload(channel);
  checkHeaders(channel);
}
