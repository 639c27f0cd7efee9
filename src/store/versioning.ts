/**
 * Version rules both stores share (http://hl7.org/fhir/R4/http.html#versioning): timestamps that
 * order a resource's versions, and If-Match checked against the live version.
 */
import { VersionConflictError, type WriteOptions } from './port';

/** Now, but strictly after `previous`, so a resource's versions are ordered by lastUpdated too. */
export function nextInstant(previous: string | undefined): string {
  const prev = previous ? Date.parse(previous) : 0;
  return new Date(Math.max(Date.now(), prev + 1)).toISOString();
}

/** An instant as the index stores it, or undefined when outside the four-digit years it can compare. */
export function storedInstant(ms: number): string | undefined {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return undefined;
  const s = d.toISOString();
  return /^\d{4}-/.test(s) ? s : undefined;
}

/**
 * An AuditEvent's `recorded` as a stored instant, or undefined when it is not one. Both stores
 * keep it as the event's `meta.lastUpdated`, so `date`, `_lastUpdated`, `_since` and `_at` agree.
 */
export function recordedInstant(recorded: string | undefined): string | undefined {
  return recorded ? storedInstant(Date.parse(recorded)) : undefined;
}

/** Throws a version conflict unless `ifMatchVersion` (when given) is the live version. */
export function checkIfMatch(type: string, id: string, current: { version: number; deleted: unknown } | null | undefined, options: WriteOptions): void {
  if (options.ifMatchVersion === undefined) return;
  const live = current && !current.deleted ? String(current.version) : undefined;
  if (live !== options.ifMatchVersion) throw new VersionConflictError(type, id, live);
}

/** What a store knows of a resource's live version when writing the next one. */
export interface CurrentVersion {
  version: number;
  deleted: unknown;
  lastUpdated?: string;
  custodian?: string | null;
  patient?: string | null;
}

/**
 * The next version's meta (http://hl7.org/fhir/R4/resource.html#Meta): version id and instant after
 * the live one, the method history records, custody (decided by the first version, never moved)
 * and the client it is about.
 */
export function nextVersion(current: CurrentVersion | undefined, options: WriteOptions) {
  return {
    versionId: String((current?.version ?? 0) + 1),
    lastUpdated: nextInstant(current?.lastUpdated),
    deleted: false,
    method: options.method ?? (current && !current.deleted ? 'PUT' : 'POST'),
    custodian: current?.custodian ?? options.custodian,
    patient: options.patient ?? current?.patient ?? undefined,
  } as const;
}

/** The object without its undefined properties (stored versions carry no empty keys). */
export function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * Re-indexes in batches, each its own short unit of work so reads and writes go on meanwhile:
 * `batch(afterRid, size)` indexes up to `size` resources after `afterRid`. Returns how many.
 */
export async function reindexInBatches(
  batch: (afterRid: number, size: number) => Promise<{ lastRid: number; count: number }>,
  opts: { batchSize?: number; onBatch?: (done: number) => void } = {},
): Promise<number> {
  const batchSize = opts.batchSize ?? 500;
  let afterRid = 0;
  let done = 0;
  for (;;) {
    const r = await batch(afterRid, batchSize);
    done += r.count;
    opts.onBatch?.(done);
    if (r.count < batchSize) return done;
    afterRid = r.lastRid;
  }
}
