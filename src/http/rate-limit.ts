/**
 * Rate limiting, answered with 429, Retry-After and an OperationOutcome. Two separate budgets:
 *  - per token subject, after authentication (per client address for the one public endpoint,
 *    `GET /fhir/metadata`);
 *  - per client address for refused requests (no token, a bad one), consulted by authentication
 *    when it refuses. Without it an anonymous client could make the server verify tokens and
 *    write a hash-chained AuditEvent per request without limit. Only refusals count and only
 *    refusals are throttled: a valid token is never held back by its address's failures, so a
 *    flood from one machine behind a NAT does not lock out the colleagues sharing the address.
 * Client addresses are `req.ip`: behind a reverse proxy set TRUST_PROXY (docs/operations.md), or
 * every client shares the proxy's address. IPv6 clients are grouped by /56, as a client usually
 * holds a whole prefix.
 */
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OperationOutcomeError, issue, outcome } from '../fhir/outcome';
import type { Principal } from '../auth/principal';

const WINDOW_MS = 60_000;

/** The limiter's record of this request (express-rate-limit sets it on the request). */
interface LimitInfo {
  resetTime?: Date;
}

/** Seconds until the client's window resets: the Retry-After value, at least 1. */
function retryAfterSeconds(info: LimitInfo | undefined): number {
  const ms = info?.resetTime ? info.resetTime.getTime() - Date.now() : WINDOW_MS;
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Passes the 429 to the error middleware, which answers it as an OperationOutcome. */
function throttled(property: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const info = (req as unknown as Record<string, LimitInfo | undefined>)[property];
    next(
      new OperationOutcomeError(429, outcome(issue('throttled', 'Too many requests: slow down and retry later')), {
        'Retry-After': String(retryAfterSeconds(info)),
      }),
    );
  };
}

function addressKey(req: Request): string {
  return ipKeyGenerator(req.ip ?? '0.0.0.0');
}

/** Builds the limiter: `perMinute` requests per subject (or per client address when anonymous). */
export function rateLimiter(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: perMinute,
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    requestPropertyName: 'rateLimit',
    keyGenerator: (req: Request, res: Response) => {
      const p = res.locals.principal as Principal | undefined;
      return p ? `sub:${p.org}:${p.sub}` : `ip:${addressKey(req)}`;
    },
    handler: throttled('rateLimit'),
  });
}

/**
 * The budget of refused requests per client address: authentication runs it on each refusal,
 * and it calls `next()` while the address is within budget (the 401 and its audit follow) or
 * `next(err)` with the 429 once it is spent. It sends no RateLimit headers: a 401 says nothing
 * about the budget it used.
 */
export function authFailureLimiter(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: perMinute,
    standardHeaders: false,
    legacyHeaders: false,
    requestPropertyName: 'authFailureLimit',
    keyGenerator: (req: Request) => `refused:${addressKey(req)}`,
    handler: throttled('authFailureLimit'),
  });
}
