/**
 * Adapts express requests under /fhir to FhirRequest, runs the router, writes the response.
 */
import type { NextFunction, Request, Response } from 'express';
import type { FhirContext, FhirRequest, HttpMethod, QueryPairs } from '../fhir/context';
import { handle } from '../fhir/handle';
import { AuditTrail } from '../audit/recorder';
import { badRequest } from '../fhir/outcome';
import { bodyKind, checkAcceptable, isSearchRequest } from './negotiate';
import { decodeUtf8, parseJsonBody } from './json-body';
import type { Principal } from '../auth/principal';

/** Splits the raw query string into ordered pairs. */
function queryPairs(url: string): QueryPairs {
  const i = url.indexOf('?');
  if (i < 0) return [];
  const pairs: QueryPairs = [];
  for (const [k, v] of new URLSearchParams(url.slice(i + 1))) pairs.push([k, v]);
  return pairs;
}

function pathSegments(path: string): string[] {
  return path
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw badRequest('The URL path is not valid percent-encoding');
      }
    });
}

/** Turns an express request (body read as a Buffer) into a FhirRequest. */
export function toFhirRequest(req: Request, requestId: string, maxDepth: number, principal?: Principal): FhirRequest {
  const path = pathSegments(req.path);
  let query = queryPairs(req.originalUrl);
  checkAcceptable(req.get('accept'), query.find(([k]) => k === '_format')?.[1]);
  const isSearch = isSearchRequest(req.method, path);
  let body: unknown;
  const raw = req.body as Buffer | undefined;
  const hasBody = Buffer.isBuffer(raw) && raw.length > 0;
  if (['POST', 'PUT', 'PATCH'].includes(req.method) && (hasBody || !isSearch)) {
    const kind = bodyKind(req.method, req.get('content-type'), isSearch);
    if (kind === 'form') {
      for (const [k, v] of new URLSearchParams(decodeUtf8(raw ?? Buffer.alloc(0)))) query = [...query, [k, v]];
    } else {
      body = parseJsonBody(raw ?? Buffer.alloc(0), maxDepth);
    }
  }
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const purpose = headers['x-purpose-of-use'];
  const audit = new AuditTrail({ principal, requestId, ...(purpose && /^[A-Z]{2,16}$/.test(purpose) ? { purposeOfUse: purpose } : {}) });
  return { method: req.method as HttpMethod, path, query, headers, body, requestId, principal, audit };
}

/** The express handler for everything under /fhir. */
export function fhirHandler(ctx: FhirContext) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const fhirReq = toFhirRequest(req, String(res.locals.requestId), ctx.config.maxJsonDepth, res.locals.principal as Principal | undefined);
      const out = await handle(ctx, fhirReq);
      res.status(out.status);
      for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
      if (out.body && req.method !== 'HEAD') {
        res.type('application/fhir+json; charset=utf-8').send(JSON.stringify(out.body));
      } else {
        res.end();
      }
    } catch (err) {
      next(err);
    }
  };
}
