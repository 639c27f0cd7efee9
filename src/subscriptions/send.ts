/**
 * Sends one notification with node:http/https: a POST with a deadline, no redirects followed, no
 * connection kept. The result says why a delivery failed in words safe to store in
 * Subscription.error and to log: a status code or an error code, never the URL (it may carry a
 * token in its query), the headers (credentials) or a response body.
 */
import http from 'node:http';
import https from 'node:https';
import type { OutgoingNotification } from './notification';

export type SendResult = { ok: true; status: number } | { ok: false; reason: string };

/** POSTs the notification; resolves (never rejects) with the outcome. 2xx is success. */
export function sendNotification(n: OutgoingNotification, timeoutMs: number): Promise<SendResult> {
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
    // agent:false: a fresh connection per notification, so no pooled socket outlives the send.
    const req = lib.request(url, { method: 'POST', headers, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      // The receiver's body is not ours to read or keep.
      res.resume();
      res.on('error', () => undefined);
      if (status >= 200 && status < 300) finish({ ok: true, status });
      else if (status >= 300 && status < 400) finish({ ok: false, reason: `the endpoint answered HTTP ${status}; redirects are not followed` });
      else finish({ ok: false, reason: `the endpoint answered HTTP ${status}` });
    });
    // A whole-request deadline: a socket timeout alone would let a slow-dripping receiver hold us.
    const deadline = setTimeout(() => {
      finish({ ok: false, reason: `no answer from the endpoint within ${Math.round(timeoutMs / 100) / 10} s` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      // Only a well-formed error code: messages name the host and port.
      const code = typeof err.code === 'string' && /^[A-Z0-9_]{1,40}$/.test(err.code) ? err.code : 'network error';
      finish({ ok: false, reason: `could not reach the endpoint (${code})` });
    });
    req.end(body);
  });
}
