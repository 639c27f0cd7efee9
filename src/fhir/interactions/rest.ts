/**
 * HTTP-facing write handlers: each opens one unit of work and calls the shared write logic.
 */
import type { FhirContext, FhirRequest, FhirResponse, QueryPairs } from '../context';
import { header, principalOf } from '../context';
import { badRequest, informational } from '../outcome';
import { parseETag, versionHeaders, writeResponse } from '../respond';
import type { StoreTx } from '../../store/port';
import { instanceEntry } from '../../audit/entries';
import { auditedUnit } from '../../audit/recorder';
import {
  ANY_VERSION,
  type DeleteResult,
  type WriteActor,
  type WriteResult,
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

/**
 * Parses an If-Match value (header or Bundle.entry.request.ifMatch) into a version id, or `*`
 * (any current version, RFC 9110 §13.1.1); a malformed value is a 400 naming `where`.
 */
export function parseIfMatch(raw: string, where?: string): string {
  if (raw.trim() === ANY_VERSION) return ANY_VERSION;
  const v = parseETag(raw);
  if (!v) throw badRequest(`If-Match must be a weak ETag such as W/"3" (or *), got "${raw}"`, where);
  return v;
}

/** Reads the If-Match header into a version id or `*`. */
export function ifMatchOf(req: FhirRequest): string | undefined {
  const raw = header(req, 'if-match');
  return raw === undefined ? undefined : parseIfMatch(raw);
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

/** Records a write in the request's audit trail. */
export function auditWrite(req: FhirRequest, subtype: string, r: WriteResult | DeleteResult): void {
  if (!r.version) return;
  const action = subtype === 'delete' ? 'D' : r.status === 201 ? 'C' : subtype === 'create' ? 'R' : 'U';
  req.audit.add(instanceEntry(action, subtype, r.version));
}

/** Runs one write in its own unit of work, with its audit events committed alongside. */
function writeUnit<T extends WriteResult | DeleteResult>(ctx: FhirContext, req: FhirRequest, subtype: string, work: (tx: StoreTx) => Promise<T>): Promise<T> {
  return auditedUnit(ctx.store, req.audit, async (tx) => {
    const r = await work(tx);
    auditWrite(req, subtype, r);
    return r;
  });
}

/** POST [type] */
export async function create(ctx: FhirContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  const ine = header(req, 'if-none-exist');
  const cond = ine === undefined ? undefined : parseConditionalQuery(ine);
  const r = await writeUnit(ctx, req, 'create', (tx) => createIn(ctx, tx, type, req.body, actorOf(req), { ifNoneExist: cond }));
  return writeResponse(req, ctx.config.baseUrl, r.status, r.version, r.message);
}

/** PUT [type]/[id] */
export async function update(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const ifMatch = ifMatchOf(req);
  const r = await writeUnit(ctx, req, 'update', (tx) => updateIn(ctx, tx, type, id, req.body, actorOf(req), ifMatch));
  return writeResponse(req, ctx.config.baseUrl, r.status, r.version, r.message);
}

/** PUT [type]?criteria */
export async function conditionalUpdate(ctx: FhirContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  const ifMatch = ifMatchOf(req);
  const r = await writeUnit(ctx, req, 'update', (tx) => conditionalUpdateIn(ctx, tx, type, req.query, req.body, actorOf(req), ifMatch));
  return writeResponse(req, ctx.config.baseUrl, r.status, r.version, r.message);
}

/** PATCH [type]/[id] with application/json-patch+json */
export async function patch(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const ifMatch = ifMatchOf(req);
  const r = await writeUnit(ctx, req, 'patch', (tx) => patchIn(ctx, tx, type, id, req.body, actorOf(req), ifMatch));
  return writeResponse(req, ctx.config.baseUrl, r.status, r.version, r.message);
}

/** DELETE [type]/[id] */
export async function remove(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const ifMatch = ifMatchOf(req);
  return deleteResponse(await writeUnit(ctx, req, 'delete', (tx) => deleteIn(ctx, tx, type, id, actorOf(req), ifMatch)));
}

/** DELETE [type]?criteria */
export async function conditionalDelete(ctx: FhirContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  const ifMatch = ifMatchOf(req);
  return deleteResponse(await writeUnit(ctx, req, 'delete', (tx) => conditionalDeleteIn(ctx, tx, type, req.query, actorOf(req), ifMatch)));
}
