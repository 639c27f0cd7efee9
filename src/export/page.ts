/**
 * One step of an export: the next page of the current type (and patient chunk), turned into NDJSON
 * lines, and where the step after it starts. Pure with respect to the job: the worker decides
 * whether to write and record it.
 */
import type { FhirContext } from '../fhir/context';
import type { ExportOptions } from './options';
import type { ExportPayload, ExportProgress } from './job';
import { levelWhere, timeWhere } from './scope';
import { deidentify } from './deidentify';
import { isLargeSite, resolveSites, sitesIn } from './sites';

export interface PageStep {
  type: string;
  lines: string[];
  withheld: number;
  next: ExportProgress;
}

function chunksOf(payload: ExportPayload, size: number): number {
  return payload.request.level === 'group' ? Math.ceil((payload.patients?.length ?? 0) / size) : 1;
}

/** The position after the current type (or chunk) is exhausted. */
function advance(payload: ExportPayload, p: ExportProgress, size: number): ExportProgress {
  const chunk = p.chunkIndex + 1;
  if (chunk < chunksOf(payload, size)) return { ...p, chunkIndex: chunk, cursor: undefined };
  return { ...p, typeIndex: p.typeIndex + 1, chunkIndex: 0, cursor: undefined };
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
      p = { ...p, typeIndex: p.typeIndex + 1, chunkIndex: 0, cursor: undefined };
      continue;
    }
    const result = await ctx.store.search({
      types: [type],
      where: [...where, ...timeWhere(request)],
      sort: [],
      count: options.pageSize,
      ...(p.cursor ? { cursor: p.cursor } : {}),
      total: 'none',
      visibility: request.visibility,
    });
    const next = result.nextCursor ? { ...p, cursor: result.nextCursor } : advance(payload, p, options.patientChunk);
    if (!key) {
      return { type, lines: result.matches.filter((v) => v.resource).map((v) => JSON.stringify(v.resource)), withheld: 0, next };
    }
    const sites = (payload.sites ??= { clients: {}, orgOf: {} });
    await resolveSites(ctx.store, sites, [...new Set(result.matches.flatMap((v) => (v.resource ? sitesIn(v.resource) : [])))]);
    const context = { key, dates: request.dateHandling, isLargeSite: (ref: string) => isLargeSite(sites, ref, options.smallSiteClients) };
    const lines: string[] = [];
    let withheld = 0;
    for (const v of result.matches) {
      const out = deidentify(v, context);
      if (out) lines.push(JSON.stringify(out));
      else withheld++;
    }
    return { type, lines, withheld, next };
  }
}
