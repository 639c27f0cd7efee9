/**
 * One step of an export: the next page of the current type (and patient chunk), turned into NDJSON
 * lines, and where the step after it starts. Pure with respect to the job: the worker decides
 * whether to write and record it.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { FhirContext } from '../fhir/context';
import type { Predicate, SearchPlan, SortKey } from '../search/plan';
import { parseDateRange } from '../search/ranges';
import type { ExportOptions } from './options';
import type { ExportPayload, ExportProgress } from './job';
import { levelWhere, timeWhere } from './scope';
import { deidentify } from './deidentify';
import { shownResource, typesWithShownView } from '../fhir/rules';
import { isLargeSite, resolveSites, sitesIn } from './sites';

export interface PageStep {
  type: string;
  /** NDJSON lines (without their newlines), one resource each. */
  lines: string[];
  withheld: number;
  next: ExportProgress;
}

/**
 * A stored JSON text as one NDJSON line. The store writes JSON.stringify output, which has no raw
 * line breaks and is exactly what re-serialising the parsed resource gives; anything else (a text
 * imported from elsewhere) is re-serialised so the file stays one resource per line.
 */
function asLine(json: string): string {
  return json.includes('\n') || json.includes('\r') ? JSON.stringify(JSON.parse(json)) : json;
}

function chunksOf(payload: ExportPayload, size: number): number {
  return payload.request.level === 'group' ? Math.ceil((payload.patients?.length ?? 0) / size) : 1;
}

/** The position after the current type (or chunk) is exhausted. */
function advance(payload: ExportPayload, p: ExportProgress, size: number): ExportProgress {
  const chunk = p.chunkIndex + 1;
  if (chunk < chunksOf(payload, size)) return { ...p, chunkIndex: chunk, cursor: undefined, after: undefined };
  return { ...p, typeIndex: p.typeIndex + 1, chunkIndex: 0, cursor: undefined, after: undefined };
}

/**
 * Pages run in (lastUpdated, rid) order: the store walks its (type, lastUpdated, rid) index from
 * where the last page ended and stops after one page. In rid order the embedded store had no index
 * to walk and sorted every match of the type again on each page (quadratic in the type's size).
 * The set of resources is the same either way: the time window (timeWhere) and the visibility
 * predicates decide it, not the order.
 */
const BY_TIME: SortKey[] = [{ param: '_lastUpdated', descending: false }];

/** The order and extra bound of the page at `p`. */
function pageOrder(p: ExportProgress): { sort: SortKey[]; where: Predicate[] } {
  // A job recorded before pages ran in time order finishes its current type in rid order.
  if (p.cursor !== undefined && p.after === undefined) return { sort: [], where: [] };
  // lastUpdated ≥ the last one written is already implied by the cursor; stated as a range it is
  // where the index scan starts. Only when the stored instant reads back as itself (store format).
  const from = p.after === undefined ? undefined : parseDateRange(p.after);
  return { sort: BY_TIME, where: from && from.low === p.after ? [{ kind: 'lastUpdated', prefix: 'ge', range: from }] : [] };
}

/** One page as NDJSON lines, with where the next one starts. */
interface PageLines {
  lines: string[];
  withheld: number;
  nextCursor: string | undefined;
  /** lastUpdated of the page's last resource. */
  lastUpdated: string | undefined;
}

/**
 * Resources leave in exports as in responses, in the view the write rules show
 * (`shownResource`: Subscription.channel.header values, the receiver's credentials, masked).
 */
function shown(ctx: FhirContext, page: PageLines): PageLines {
  return { ...page, lines: page.lines.map((line) => JSON.stringify(shownResource(ctx, JSON.parse(line) as Resource))) };
}

/** Reads one page: stored JSON text as is (raw reader), re-serialised, or de-identified (with `key`). */
async function readPage(ctx: FhirContext, payload: ExportPayload, plan: SearchPlan, options: ExportOptions, key?: Buffer): Promise<PageLines> {
  const page = await readLines(ctx, payload, plan, options, key);
  const types = typesWithShownView(ctx.rules);
  return !types || types.includes(plan.types[0]!) ? shown(ctx, page) : page;
}

async function readLines(ctx: FhirContext, payload: ExportPayload, plan: SearchPlan, options: ExportOptions, key?: Buffer): Promise<PageLines> {
  // Identified exports write resources as stored: a store's raw page reader (Store.exportPage)
  // skips a JSON.parse and a JSON.stringify per resource; stores without it are read through search.
  if (!key && ctx.store.exportPage) {
    const { matches, nextCursor } = await ctx.store.exportPage(plan);
    return { lines: matches.map((m) => asLine(m.json)), withheld: 0, nextCursor, lastUpdated: matches[matches.length - 1]?.lastUpdated };
  }
  const { matches, nextCursor } = await ctx.store.search(plan);
  const lastUpdated = matches[matches.length - 1]?.lastUpdated;
  if (!key) return { lines: matches.filter((v) => v.resource).map((v) => JSON.stringify(v.resource)), withheld: 0, nextCursor, lastUpdated };
  const sites = (payload.sites ??= { clients: {}, orgOf: {} });
  await resolveSites(ctx.store, sites, [...new Set(matches.flatMap((v) => (v.resource ? sitesIn(v.resource) : [])))]);
  const context = { key, dates: payload.request.dateHandling, isLargeSite: (ref: string) => isLargeSite(sites, ref, options.smallSiteClients), memo: new Map() };
  const lines: string[] = [];
  let withheld = 0;
  for (const v of matches) {
    const out = deidentify(v, context);
    if (out) lines.push(JSON.stringify(out));
    else withheld++;
  }
  return { lines, withheld, nextCursor, lastUpdated };
}

/** Reads the next page; undefined when the export has nothing left. */
export async function nextPage(ctx: FhirContext, payload: ExportPayload, options: ExportOptions, key?: Buffer): Promise<PageStep | undefined> {
  const { request } = payload;
  let p = payload.progress;
  for (;;) {
    const type = request.types[p.typeIndex];
    if (type === undefined) return undefined;
    const chunk = request.level === 'group' ? (payload.patients ?? []).slice(p.chunkIndex * options.patientChunk, (p.chunkIndex + 1) * options.patientChunk) : undefined;
    const where = levelWhere(ctx.registry, request.level, type, chunk);
    if (!where) {
      p = { ...p, typeIndex: p.typeIndex + 1, chunkIndex: 0, cursor: undefined, after: undefined };
      continue;
    }
    const order = pageOrder(p);
    const plan: SearchPlan = {
      types: [type],
      where: [...where, ...timeWhere(request), ...order.where],
      sort: order.sort,
      count: options.pageSize,
      ...(p.cursor ? { cursor: p.cursor } : {}),
      total: 'none',
      visibility: request.visibility,
    };
    const page = await readPage(ctx, payload, plan, options, key);
    const next = page.nextCursor
      ? { ...p, cursor: page.nextCursor, after: order.sort.length ? page.lastUpdated : undefined }
      : advance(payload, p, options.patientChunk);
    return { type, lines: page.lines, withheld: page.withheld, next };
  }
}
