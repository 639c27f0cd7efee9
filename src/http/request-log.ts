/**
 * One structured log line per request: id, method, route, status, duration.
 * The route is the path with ids replaced by placeholders; query strings and bodies are never logged.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

const REQUEST_ID_RE = /^[A-Za-z0-9\-_.]{8,64}$/;

/** `/fhir/Patient/abc/_history/2` → `/fhir/Patient/:id/_history/:vid`. */
export function routeOf(path: string): string {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const prev = out[out.length - 1];
    if (i >= 3 && parts[1] === 'fhir' && /^[A-Z]/.test(parts[2] ?? '') && i === 3 && !p.startsWith('$') && !p.startsWith('_')) out.push(':id');
    else if (prev === '_history' && i >= 4) out.push(':vid');
    else out.push(p.length > 64 ? ':long' : p);
  }
  return out.join('/');
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
      logger.info({ requestId, method: req.method, route: routeOf(req.path), status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
