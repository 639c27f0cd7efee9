/**
 * Sends one notification with node:http/https: a POST with a deadline, no redirects followed, no
 * connection kept, and (unless private destinations are allowed) only to a public address checked
 * when connecting (./destination.ts). The result says why a delivery failed in words safe to store
 * in Subscription.error and to show the Subscription's readers: the HTTP status when a receiver
 * answered, otherwise one generic reason. Refused destination, closed port, unknown name and
 * silence all read alike, so Subscription.error cannot be used to map a network; the specific
 * cause (`detail`, an error code) goes to the log only. Never the URL (it may carry a token in its
 * query), the headers (credentials) or a response body.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { OutgoingNotification } from './notification';
import { destinationRefused, guardedLookup, isForbiddenHost } from './destination';

/** The reason given for every delivery that got no HTTP answer. */
export const UNREACHABLE = 'the endpoint could not be reached';

export type SendResult = { ok: true; status: number } | { ok: false; reason: string; detail: string };

export interface SendOptions {
  timeoutMs: number;
  /** Loopback, private and link-local destinations allowed (development and tests). */
  allowPrivate: boolean;
  /** The checking lookup to use instead of the default one over dns.lookup (tests). */
  lookup?: LookupFunction;
}

/** Only a well-formed error code: messages name the host and port. */
function errorCode(err: NodeJS.ErrnoException): string {
  return typeof err.code === 'string' && /^[A-Z0-9_]{1,40}$/.test(err.code) ? err.code : 'network error';
}
/** POSTs the notification; resolves (never rejects) with the outcome. 2xx is success. */
export function sendNotification(n: OutgoingNotification, o: SendOptions): Promise<SendResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(r);
    };
    const url = new URL(n.endpoint);
    const body = n.body === undefined ? undefined : Buffer.from(n.body, 'utf8');
    const headers: Record<string, string> = {
      ...n.headers,
      'content-length': String(body?.length ?? 0),
      'user-agent': 'linkcare-subscriptions',
      connection: 'close',
    };
    const lib = url.protocol === 'https:' ? https : http;
    // An address literal (or localhost) is connected to without a guarded lookup: checked here instead.
    if (!o.allowPrivate && isForbiddenHost(url.hostname)) {
      resolve({ ok: false, reason: UNREACHABLE, detail: errorCode(destinationRefused()) });
      return;
    }
    const lookup = o.allowPrivate ? undefined : (o.lookup ?? guardedLookup());
    // agent:false: a fresh connection per notification, so no pooled socket outlives the send.
    const req = lib.request(url, { method: 'POST', headers, agent: false, ...(lookup ? { lookup } : {}) }, (res) => {
      const status = res.statusCode ?? 0;
      // The receiver's body is not ours to read or keep.
      res.resume();
      res.on('error', () => undefined);
      if (status >= 200 && status < 300) finish({ ok: true, status });
      else if (status >= 300 && status < 400) finish({ ok: false, reason: `the endpoint answered HTTP ${status}; redirects are not followed`, detail: `HTTP ${status}` });
      else finish({ ok: false, reason: `the endpoint answered HTTP ${status}`, detail: `HTTP ${status}` });
    });
    // A whole-request deadline: a socket timeout alone would let a slow-dripping receiver hold us.
    const deadline = setTimeout(() => {
      finish({ ok: false, reason: UNREACHABLE, detail: `no answer within ${Math.round(o.timeoutMs / 100) / 10} s` });
      req.destroy();
    }, o.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, reason: UNREACHABLE, detail: errorCode(err) }));
    req.end(body);
  });
}
