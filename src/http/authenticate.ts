/**
 * Bearer authentication for everything under /fhir except `GET /fhir/metadata`.
 * A refused token gets 401 with `WWW-Authenticate: Bearer error="invalid_token"` and a generic
 * outcome: the reason goes to the log only, so an attacker learns nothing from it.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { OperationOutcomeError, issue, outcome } from '../fhir/outcome';
import type { Principal } from '../auth/principal';

function unauthorized(error?: 'invalid_token'): OperationOutcomeError {
  const header = error ? `Bearer realm="linkcare", error="${error}"` : 'Bearer realm="linkcare"';
  return new OperationOutcomeError(401, outcome(issue('login', 'Authentication required: send a valid bearer token')), {
    'WWW-Authenticate': header,
  });
}

/** True for the one unauthenticated FHIR endpoint, `GET /fhir/metadata` (by its full path, wherever the middleware is mounted). */
export function isPublicMetadata(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && /^\/fhir\/metadata\/?$/.test(`${req.baseUrl}${req.path}`);
}

/** Called for each refused request, so that refusals reach the audit trail. */
export type OnRefused = (requestId: string, method: string, path: string) => Promise<void>;

/**
 * Express middleware: verifies the token and stores the principal in res.locals. `limitRefusals`
 * (./rate-limit.ts, authFailureLimiter) is run on each refusal before it is audited: past the
 * address's budget it answers 429 instead, and nothing is audited.
 */
export function authenticate(verify: (token: string) => Principal, logger: Logger, onRefused: OnRefused, limitRefusals?: RequestHandler) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (isPublicMetadata(req)) return next();
    const audited = async (err: OperationOutcomeError): Promise<void> => {
      await onRefused(String(res.locals.requestId), req.method, req.path).catch((e: unknown) =>
        logger.error({ requestId: res.locals.requestId, err: (e as Error).message }, 'audit of a refusal failed'),
      );
      next(err);
    };
    const refuse = async (err: OperationOutcomeError): Promise<void> => {
      if (!limitRefusals) return audited(err);
      await limitRefusals(req, res, (throttled?: unknown) => {
        if (throttled) next(throttled);
        else void audited(err);
      });
    };
    const header = req.get('authorization');
    if (!header) return refuse(unauthorized());
    const m = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)$/.exec(header.trim());
    if (!m) return refuse(unauthorized('invalid_token'));
    try {
      res.locals.principal = verify(m[1]!);
    } catch (err) {
      logger.info({ requestId: res.locals.requestId, reason: (err as Error).message }, 'token refused');
      return refuse(unauthorized('invalid_token'));
    }
    next();
  };
}
