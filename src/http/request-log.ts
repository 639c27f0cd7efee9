/**
 * One structured log line per request: id, method, route, status, duration.
 * The route is the path with ids replaced by placeholders; query strings and bodies are never logged.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

const REQUEST_ID_RE = /^[A-Za-z0-9\-_.]{8,64}$/;

/** `/fhir/Patient/abc/_history/2?x=y` → `/fhir/Patient/:id/_history/:vid` (no query, no ids). */
export function routeOf(url: string): string {
  const parts = url.split('?')[0]!.split('/');
  return parts
    .map((p, i) => {
      if (parts[1] !== 'fhir') return p.length > 64 ? ':long' : p;
      if (i === 3 && !p.startsWith('$') && !p.startsWith('_')) return ':id';
      if (i === 5 && parts[4] === '_history') return ':vid';
      return p.length > 64 ? ':long' : p;
    })
    .join('/');
}

/** Assigns the request id (a caller's X-Request-Id when well-formed) and logs on finish. */
export function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.get('x-request-id');
    const requestId = given && REQUEST_ID_RE.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      logger.info({ requestId, method: req.method, route: routeOf(req.originalUrl), status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
