/**
 * What every response carrying health data gets on its way out:
 *  - `Cache-Control: no-store`, so that no browser, proxy or CDN keeps a copy of a client's record
 *    (RFC 9111 §5.2.2.5). Validators are unaffected: ETag and Last-Modified are still sent and a
 *    conditional read still answers 304. The one public FHIR endpoint, `GET /fhir/metadata`,
 *    holds no client data and stays cacheable.
 *  - redaction of elements that are stored but never shown (Subscription.channel.header values,
 *    src/subscriptions/mask.ts), applied to every resource in the body, wherever it sits (a read,
 *    a search or history Bundle, a transaction response, an operation's Parameters).
 */
import type { NextFunction, Request, Response } from 'express';

/** True for the public capability statement. */
function isPublicMetadata(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && /^\/fhir\/metadata\/?$/.test(`${req.baseUrl}${req.path}`);
}

/** Middleware: `Cache-Control: no-store` on the response (set before anything can fail). */
export function noStore(req: Request, res: Response, next: NextFunction): void {
  if (!isPublicMetadata(req)) res.setHeader('Cache-Control', 'no-store');
  next();
}

/** Masks a resource of its type in place. */
export type Redactor = (resource: Record<string, unknown>) => void;

/** Applies the redactors to every resource in a parsed body, nested ones included. */
function redactTree(node: unknown, redactors: Readonly<Record<string, Redactor>>): void {
  const stack = [node];
  while (stack.length) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      stack.push(...(value as unknown[]));
      continue;
    }
    const obj = value as Record<string, unknown>;
    const type = obj.resourceType;
    if (typeof type === 'string' && Object.hasOwn(redactors, type)) redactors[type]!(obj);
    stack.push(...Object.values(obj));
  }
}

/**
 * Middleware: redacts the resources of the given types in JSON bodies sent with `res.send`. A body
 * is parsed only when it names one of the types: JSON.stringify writes `"resourceType":"X"` with
 * no spaces, and cannot produce that text inside a string (its quotes would be escaped), so other
 * responses pass untouched and cost a substring search.
 */
export function redactResponses(redactors: Readonly<Record<string, Redactor>>) {
  const markers = Object.keys(redactors).map((type) => `"resourceType":${JSON.stringify(type)}`);
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
      redactTree(parsed, redactors);
      return send(JSON.stringify(parsed));
    }) as Response['send'];
    next();
  };
}
