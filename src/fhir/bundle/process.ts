/**
 * batch and transaction Bundles (http://hl7.org/fhir/R4/http.html#transaction).
 * A transaction runs in one unit of work: all entries commit or none do. Batch entries run
 * each in their own unit of work and fail independently.
 */
import { newTimeOrderedId } from '../../store/time-ordered-id';
import type { Bundle, BundleEntry, BundleEntryResponse, Resource } from '@medplum/fhirtypes';
import type { FhirContext, FhirRequest, FhirResponse } from '../context';
import { principalOf } from '../context';
import { OperationOutcomeError, badRequest, informational, notAllowed, notImplemented, outcome, preconditionFailed } from '../outcome';
import { etag, returnPreference, versionUrl } from '../respond';
import type { Store, StoreTx, StoredVersion } from '../../store/port';
import { route } from '../router';
import { type EntryRequest, readEntryRequest } from './entry';
import { isConditionalReference, isUrnReference, rewriteReferences, rewriteUris, urnsOf } from './references';
import { type WriteResult, conditionalDeleteIn, conditionalUpdateIn, createIn, deleteIn, findConditional, patchIn, updateIn } from '../interactions/write';
import { actorOf, auditWrite, parseConditionalQuery, parseIfMatch } from '../interactions/rest';
import { failureEntry } from '../../audit/entries';
import { auditedUnit } from '../../audit/recorder';
import { isSupportedType } from '../resource-types';

/** Most entries one Bundle may carry; larger uploads belong to bulk import. */
export const MAX_BUNDLE_ENTRIES = 10_000;

const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified' };

function statusLine(status: number): string {
  return `${status}${STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : ''}`;
}

/** A context whose store reads go through the open unit of work. */
function withinTx(ctx: FhirContext, tx: StoreTx): FhirContext {
  const store: Store = {
    ...ctx.store,
    read: (t, i) => tx.read(t, i),
    vread: (t, i, v) => tx.vread(t, i, v),
    history: (q) => tx.history(q),
    search: (p) => tx.search(p),
    enrolments: (id) => tx.enrolments(id),
    unitOfWork: () => Promise.reject(new Error('nested unit of work')),
  };
  return { ...ctx, store };
}

function writeEntry(req: FhirRequest, base: string, r: WriteResult, subtype = 'create'): BundleEntry {
  auditWrite(req, subtype, r);
  const response: BundleEntryResponse = {
    status: statusLine(r.status),
    location: versionUrl(base, r.version),
    etag: etag(r.version.versionId),
    lastModified: r.version.lastUpdated,
  };
  const entry: BundleEntry = { fullUrl: `${base}/${r.version.type}/${r.version.id}`, response };
  // Prefer: return= applies to each entry as to a single write (http://hl7.org/fhir/R4/http.html#ops).
  const pref = returnPreference(req);
  if (pref === 'OperationOutcome') response.outcome = informational(r.message);
  else if (pref === 'representation' && r.version.resource) entry.resource = r.version.resource;
  return entry;
}

function responseEntry(res: FhirResponse): BundleEntry {
  const response: BundleEntryResponse = { status: statusLine(res.status) };
  if (res.headers?.ETag) response.etag = res.headers.ETag;
  if (res.headers?.Location) response.location = res.headers.Location;
  if (res.body?.resourceType === 'OperationOutcome') return { response: { ...response, outcome: res.body } };
  return res.body ? { resource: res.body, response } : { response };
}

/** Prefixes an entry's error so the client can tell which entry failed. */
function entryError(err: unknown, index: number, type?: string): unknown {
  if (!(err instanceof OperationOutcomeError)) return err;
  const issues = (err.outcome.issue ?? []).map((i) => ({
    ...i,
    diagnostics: `Bundle.entry[${index}]: ${i.diagnostics ?? ''}`,
    expression: (i.expression ?? [`Bundle.entry[${index}]`]).map((e) =>
      type && e.startsWith(`${type}.`) ? `Bundle.entry[${index}].resource${e.slice(type.length)}` : e,
    ),
  }));
  return new OperationOutcomeError(err.status, outcome(...issues), err.headers);
}

function ifMatchOf(e: EntryRequest): string | undefined {
  return e.ifMatch === undefined ? undefined : parseIfMatch(e.ifMatch, `Bundle.entry[${e.index}].request.ifMatch`);
}

/** Runs one write entry on an open unit of work. `ids` holds ids decided up front (transactions). */
async function runWrite(ctx: FhirContext, req: FhirRequest, tx: StoreTx, e: EntryRequest, id?: string): Promise<BundleEntry> {
  const [type, rid, extra] = e.path;
  const actor = actorOf(req);
  if (!type || extra !== undefined) throw badRequest('request.url must be [type] or [type]/[id]', `Bundle.entry[${e.index}].request.url`);
  const base = ctx.config.baseUrl;
  switch (e.method) {
    case 'POST':
      if (rid !== undefined) throw badRequest('POST entries take request.url [type]', `Bundle.entry[${e.index}].request.url`);
      if (id === undefined && e.ifNoneExist) {
        return writeEntry(req, base, await createIn(ctx, tx, type, e.entry.resource, actor, { ifNoneExist: parseConditionalQuery(e.ifNoneExist) }));
      }
      return writeEntry(req, base, await createIn(ctx, tx, type, e.entry.resource, actor, { id }));
    case 'PUT': {
      const target = rid ?? id;
      const ifMatch = ifMatchOf(e);
      // A batch's conditional update: no id was planned, so the criteria are searched here.
      if (target === undefined) return writeEntry(req, base, await conditionalUpdateIn(ctx, tx, type, e.query, e.entry.resource, actor, ifMatch), 'update');
      if (rid === undefined && !(await tx.read(type, target))) {
        // A transaction's conditional update that matched nothing: If-Match has nothing to match.
        if (ifMatch !== undefined) throw preconditionFailed('If-Match was given but the conditional update criteria matched no resource');
        return writeEntry(req, base, await createIn(ctx, tx, type, e.entry.resource, actor, { id: target }));
      }
      const body = { ...(e.entry.resource as object), id: target };
      return writeEntry(req, base, await updateIn(ctx, tx, type, target, body, actor, ifMatch), 'update');
    }
    case 'PATCH': {
      if (rid === undefined) throw badRequest('PATCH entries take request.url [type]/[id]', `Bundle.entry[${e.index}].request.url`);
      const resource = e.entry.resource as { resourceType?: string; data?: string; contentType?: string } | undefined;
      // JSON Patch in a Bundle travels as a Binary with base64 data (http://hl7.org/fhir/R4/http.html#patch).
      if (resource?.resourceType !== 'Binary' || typeof resource.data !== 'string') {
        throw badRequest('A PATCH entry carries a Binary resource holding the JSON Patch', `Bundle.entry[${e.index}].resource`);
      }
      let patch: unknown;
      try {
        patch = JSON.parse(Buffer.from(resource.data, 'base64').toString('utf8'));
      } catch {
        throw badRequest('The Binary data is not a JSON Patch document', `Bundle.entry[${e.index}].resource.data`);
      }
      return writeEntry(req, base, await patchIn(ctx, tx, type, rid, patch, actor, ifMatchOf(e)), 'patch');
    }
    case 'DELETE': {
      const r = rid !== undefined ? await deleteIn(ctx, tx, type, rid, actor, ifMatchOf(e)) : await conditionalDeleteIn(ctx, tx, type, e.query, actor, ifMatchOf(e));
      auditWrite(req, 'delete', r);
      return { response: { status: statusLine(r.status), ...(r.version ? { etag: etag(r.version.versionId) } : {}) } };
    }
    default:
      throw notAllowed(`${e.method} is not a write`);
  }
}

/** Request headers that describe one request's preconditions: an entry takes its own, never the Bundle POST's. */
const CONDITIONAL_HEADERS = ['if-match', 'if-none-match', 'if-modified-since', 'if-none-exist'];

async function runRead(ctx: FhirContext, req: FhirRequest, e: EntryRequest): Promise<BundleEntry> {
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !CONDITIONAL_HEADERS.includes(k)));
  if (e.ifNoneMatch !== undefined) headers['if-none-match'] = e.ifNoneMatch;
  if (e.ifModifiedSince !== undefined) headers['if-modified-since'] = e.ifModifiedSince;
  const res = await route(ctx, { ...req, method: e.method, path: e.path, query: e.query, headers, body: undefined });
  return responseEntry(res);
}

function readBundle(req: FhirRequest): Bundle {
  const b = req.body as Bundle | undefined;
  if (!b || typeof b !== 'object' || b.resourceType !== 'Bundle') throw badRequest('POST to the base takes a Bundle', 'Bundle');
  if (b.type !== 'batch' && b.type !== 'transaction') throw badRequest('Bundle.type must be batch or transaction', 'Bundle.type');
  if (b.entry !== undefined && !Array.isArray(b.entry)) throw badRequest('Bundle.entry must be an array', 'Bundle.entry');
  if ((b.entry?.length ?? 0) > MAX_BUNDLE_ENTRIES) throw badRequest(`A Bundle may carry at most ${MAX_BUNDLE_ENTRIES} entries`, 'Bundle.entry');
  assertUniqueFullUrls(b.entry ?? []);
  return b;
}

/** bdl-7: fullUrl is unique in a Bundle, unless the entries are different versions of one resource. */
function assertUniqueFullUrls(entries: BundleEntry[]): void {
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    if (typeof entry?.fullUrl !== 'string') return;
    const key = `${entry.fullUrl}|${entry.resource?.meta?.versionId ?? ''}`;
    if (seen.has(key)) throw badRequest(`Bundle.entry[${i}]: fullUrl ${entry.fullUrl} is already used by an earlier entry (bdl-7)`, `Bundle.entry[${i}].fullUrl`);
    seen.add(key);
  });
}

/**
 * A transaction's `urn:uuid:`/`urn:oid:` references must name the fullUrl of an entry that creates
 * or updates a resource (POST or PUT); anything else would be stored pointing nowhere.
 */
function assertUrnsResolve(entries: EntryRequest[]): void {
  const targets = new Set(entries.filter((e) => e.method === 'POST' || e.method === 'PUT').map((e) => e.entry.fullUrl));
  for (const e of entries) {
    rewriteReferences(e.entry.resource, (ref, path) => {
      if (isUrnReference(ref) && !targets.has(ref)) {
        throw badRequest(`Bundle.entry[${e.index}]: reference ${ref} matches the fullUrl of no POST or PUT entry in this transaction`, path);
      }
      return undefined;
    }, `Bundle.entry[${e.index}].resource`);
  }
}

/** Decides, before any write, the id each POST/conditional PUT will get, and maps fullUrls to them. */
async function planIds(ctx: FhirContext, req: FhirRequest, tx: StoreTx, entries: EntryRequest[]): Promise<{ ids: Map<number, string>; refs: Map<string, string>; existing: Set<number> }> {
  const ids = new Map<number, string>();
  const refs = new Map<string, string>();
  const existing = new Set<number>();
  for (const e of entries) {
    const type = e.path[0]!;
    let id: string | undefined = e.path[1];
    if (e.method === 'POST') {
      if (e.ifNoneExist) {
        const found = await findConditional(ctx, tx, type, parseConditionalQuery(e.ifNoneExist), principalOf(req));
        if (found.length > 1) throw preconditionFailed(`Bundle.entry[${e.index}]: ifNoneExist matched more than one resource`);
        if (found.length === 1) existing.add(e.index);
        id = found[0]?.id ?? newTimeOrderedId();
      } else id = newTimeOrderedId();
      ids.set(e.index, id);
    } else if (e.method === 'PUT' && id === undefined) {
      const found = await findConditional(ctx, tx, type, e.query, principalOf(req));
      if (found.length > 1) throw preconditionFailed(`Bundle.entry[${e.index}]: conditional update matched more than one resource`);
      id = found[0]?.id ?? newTimeOrderedId();
      ids.set(e.index, id);
    }
    const fullUrl = e.entry.fullUrl;
    if (fullUrl && id && (e.method === 'POST' || e.method === 'PUT')) refs.set(fullUrl, `${type}/${id}`);
  }
  return { ids, refs, existing };
}

/** Resolves conditional references in every entry's resource to the one resource they match. */
async function resolveConditionalRefs(ctx: FhirContext, req: FhirRequest, tx: StoreTx, entries: EntryRequest[], refs: Map<string, string>): Promise<void> {
  for (const e of entries) {
    const pending: string[] = [];
    rewriteReferences(e.entry.resource, (ref) => {
      if (isConditionalReference(ref) && !refs.has(ref)) pending.push(ref);
      return undefined;
    });
    for (const ref of pending) {
      const [type, query] = ref.split(/\?(.*)/s, 2) as [string, string];
      if (!isSupportedType(type)) throw badRequest(`Bundle.entry[${e.index}]: conditional reference to unknown type ${type}`);
      const found = await findConditional(ctx, tx, type, parseConditionalQuery(query), principalOf(req));
      if (found.length !== 1) {
        throw preconditionFailed(`Bundle.entry[${e.index}]: conditional reference ${type}?… matched ${found.length === 0 ? 'nothing' : 'more than one resource'}`);
      }
      refs.set(ref, `${type}/${found[0]!.id}`);
    }
  }
}

async function transaction(ctx: FhirContext, req: FhirRequest, bundle: Bundle): Promise<Bundle> {
  if (ctx.store.supportsTransactions === false) throw notImplemented('Transaction Bundles need a MongoDB replica set (this server runs on a standalone MongoDB)');
  const base = ctx.config.baseUrl;
  const parsed = (bundle.entry ?? []).map((entry, i) => readEntryRequest(entry, i, base));
  const seen = new Set<string>();
  for (const e of parsed) {
    if (e.method === 'GET' || e.method === 'HEAD' || e.path.length < 2) continue;
    const key = `${e.path[0]}/${e.path[1]}`;
    if (seen.has(key)) throw badRequest(`Bundle.entry[${e.index}]: ${key} appears twice in one transaction`);
    seen.add(key);
  }
  assertUrnsResolve(parsed);
  const out: BundleEntry[] = new Array(parsed.length);
  await auditedUnit(ctx.store, req.audit, async (tx) => {
    // References are rewritten in place, so each attempt of the unit (a store may run it again)
    // works on its own copy of the entries, with the ids that attempt chose.
    const entries = parsed.map((e) => ({ ...e, entry: structuredClone(e.entry) }));
    const ordered = [...entries].sort((x, y) => ORDER[x.method]! - ORDER[y.method]! || x.index - y.index);
    const { ids, refs, existing } = await planIds(ctx, req, tx, ordered.filter((e) => e.method !== 'DELETE'));
    await resolveConditionalRefs(ctx, req, tx, entries, refs);
    // The URNs are taken from the map once: per entry, a 5,000-entry Bundle took 11 s.
    const urns = urnsOf(refs);
    for (const e of entries) {
      rewriteReferences(e.entry.resource, (ref) => refs.get(ref));
      rewriteUris(e.entry.resource, urns);
    }
    const txCtx = withinTx(ctx, tx);
    for (const e of ordered) {
      try {
        if (e.method === 'GET' || e.method === 'HEAD') out[e.index] = await runRead(txCtx, req, e);
        else if (existing.has(e.index)) out[e.index] = writeEntry(req, base, await existingResult(tx, e, ids.get(e.index)!));
        else out[e.index] = await runWrite(ctx, req, tx, e, ids.get(e.index));
      } catch (err) {
        throw entryError(err, e.index, e.path[0]);
      }
    }
  });
  return { resourceType: 'Bundle', type: 'transaction-response', entry: out };
}

async function existingResult(tx: StoreTx, e: EntryRequest, id: string): Promise<WriteResult> {
  const version = (await tx.read(e.path[0]!, id)) as StoredVersion;
  return { status: 200, version, message: 'Resource already exists; nothing created' };
}

async function batch(ctx: FhirContext, req: FhirRequest, bundle: Bundle): Promise<Bundle> {
  const base = ctx.config.baseUrl;
  const out: BundleEntry[] = [];
  for (const [i, raw] of (bundle.entry ?? []).entries()) {
    try {
      const e = readEntryRequest(raw, i, base);
      if (e.method === 'GET' || e.method === 'HEAD') out.push(await runRead(ctx, req, e));
      else {
        out.push(await auditedUnit(ctx.store, req.audit, (tx) => runWrite(ctx, req, tx, e)));
      }
    } catch (err) {
      if (!(err instanceof OperationOutcomeError)) throw err;
      const failed = entryError(err, i, raw.request?.url?.split(/[/?]/)[0]) as OperationOutcomeError;
      req.audit.add(failureEntry(raw.request?.method ?? 'GET', (raw.request?.url ?? '').split('?')[0]!.split('/').filter(Boolean), failed.status, failed.outcome.issue?.[0]?.code ?? 'error'));
      await auditedUnit(ctx.store, req.audit, async () => undefined);
      out.push({ response: { status: String(failed.status), outcome: failed.outcome } });
    }
  }
  return { resourceType: 'Bundle', type: 'batch-response', entry: out };
}

/** POST [base] with a batch or transaction Bundle. */
export async function processBundle(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const bundle = readBundle(req);
  const result = bundle.type === 'transaction' ? await transaction(ctx, req, bundle) : await batch(ctx, req, bundle);
  return { status: 200, body: result as Resource };
}
