/**
 * What every response carrying health data gets on its way out:
 *  - `Cache-Control: no-store`, so that no browser, proxy or CDN keeps a copy of a client's record
 *    (RFC 9111 §5.2.2.5). Validators are unaffected: ETag and Last-Modified are still sent and a
 *    conditional read still answers 304. The one public FHIR endpoint, `GET /fhir/metadata`,
 *    holds no client data and stays cacheable.
 *  - the shown view of every resource in the body, wherever it sits (a read, a search or history
 *    Bundle, a transaction response, an operation's Parameters): the view the write rules define
 *    for elements that are stored but never shown (Subscription.channel.header values,
 *    src/subscriptions/mask.ts), the same one a PATCH applies to.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { NextFunction, Request, Response } from 'express';
import { isPublicMetadata } from './authenticate';


/** Middleware: `Cache-Control: no-store` on the response (set before anything can fail). */
export function noStore(req: Request, res: Response, next: NextFunction): void {
  if (!isPublicMetadata(req)) res.setHeader('Cache-Control', 'no-store');
  next();
}

/** A body's tree with every resource in it, nested ones included, replaced by its shown view (a new tree). */
function showTree(node: unknown, show: (resource: Resource) => Resource): unknown {
  if (Array.isArray(node)) return node.map((n) => showTree(n, show));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = showTree(v, show);
  return typeof out.resourceType === 'string' ? show(out as unknown as Resource) : out;
}

/**
 * Middleware: every resource in a JSON body sent with `res.send` leaves as clients are shown it
 * (`show`: the write rules' `shown` views, src/fhir/rules.ts), wherever it sits. A body is parsed
 * only when it names one of `types` (undefined: any resource): JSON.stringify writes
 * `"resourceType":"X"` with no spaces, and cannot produce that text inside a string (its quotes
 * would be escaped), so other responses pass untouched and cost a substring search.
 */
export function showInResponses(types: readonly string[] | undefined, show: (resource: Resource) => Resource) {
  const markers = types ? types.map((type) => `"resourceType":${JSON.stringify(type)}`) : ['"resourceType":'];
  return (_req: Request, res: Response, next: NextFunction): void => {
    const send = res.send.bind(res);
    res.send = ((body?: unknown) => {
      if (typeof body !== 'string' || !markers.some((m) => body.includes(m))) return send(body);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return send(body); // not JSON, so not a resource
      }
      return send(JSON.stringify(showTree(parsed, show)));
    }) as Response['send'];
    next();
  };
}
