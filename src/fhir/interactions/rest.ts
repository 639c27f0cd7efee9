/**
 * HTTP-facing write handlers: each opens one unit of work and calls the shared write logic.
 */
import type { FhirContext, FhirRequest, FhirResponse, QueryPairs } from '../context';
import { header, principalOf } from '../context';
import { badRequest, informational } from '../outcome';
import { parseETag, versionHeaders, writeResponse } from '../respond';
import {
  type DeleteResult,
  type WriteActor,
  conditionalDeleteIn,
  conditionalUpdateIn,
  createIn,
  deleteIn,
  patchIn,
  updateIn,
} from './write';

/** The writing actor of a request. */
export function actorOf(req: FhirRequest): WriteActor {
  return { principal: principalOf(req) };
}

/** Reads If-Match into a version id; a malformed value is a 400. */
export function ifMatchOf(req: FhirRequest): string | undefined {
  const raw = header(req, 'if-match');
  if (raw === undefined) return undefined;
  const v = parseETag(raw);
  if (!v) throw badRequest(`If-Match must be a weak ETag such as W/"3", got "${raw}"`);
  return v;
}

/** Parses an If-None-Exist header (a query string without the "?"). */
export function parseConditionalQuery(raw: string): QueryPairs {
  const pairs: QueryPairs = [];
  for (const [k, v] of new URLSearchParams(raw.replace(/^\?/, ''))) pairs.push([k, v]);
  return pairs;
}

function deleteResponse(r: DeleteResult): FhirResponse {
  return { status: r.status, headers: r.version ? { ETag: versionHeaders(r.version).ETag! } : {}, body: informational(r.message) };
}

/** POST [type] */
export async function create(ctx: FhirContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  const ine = header(req, 'if-none-exist');
  const cond = ine === undefined ? undefined : parseConditionalQuery(ine);
  const r = await ctx.store.unitOfWork((tx) => createIn(ctx, tx, type, req.body, actorOf(req), { ifNoneExist: cond }));
  return writeResponse(req, ctx.config.baseUrl, r.status, r.version, r.message);
}

/** PUT [type]/[id] */
export async function update(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const ifMatch = ifMatchOf(req);
  const r = await ctx.store.unitOfWork((tx) => updateIn(ctx, tx, type, id, req.body, actorOf(req), ifMatch));
  return writeResponse(req, ctx.config.baseUrl, r.status, r.version, r.message);
}

/** PUT [type]?criteria */
export async function conditionalUpdate(ctx: FhirContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  const r = await ctx.store.unitOfWork((tx) => conditionalUpdateIn(ctx, tx, type, req.query, req.body, actorOf(req)));
  return writeResponse(req, ctx.config.baseUrl, r.status, r.version, r.message);
}

/** PATCH [type]/[id] with application/json-patch+json */
export async function patch(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const ifMatch = ifMatchOf(req);
  const r = await ctx.store.unitOfWork((tx) => patchIn(ctx, tx, type, id, req.body, actorOf(req), ifMatch));
  return writeResponse(req, ctx.config.baseUrl, r.status, r.version, r.message);
}

/** DELETE [type]/[id] */
export async function remove(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const ifMatch = ifMatchOf(req);
  return deleteResponse(await ctx.store.unitOfWork((tx) => deleteIn(tx, type, id, actorOf(req), ifMatch)));
}

/** DELETE [type]?criteria */
export async function conditionalDelete(ctx: FhirContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  return deleteResponse(await ctx.store.unitOfWork((tx) => conditionalDeleteIn(ctx, tx, type, req.query, actorOf(req))));
}
