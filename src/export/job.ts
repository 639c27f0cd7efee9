/**
 * The durable shape of one bulk export: what was asked (fixed at kick-off), how far the worker got
 * (rewritten after every page, so a restarted or other instance resumes exactly there) and the
 * finished manifest (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status).
 */
import type { Predicate } from '../search/plan';

/** Job queues: the export itself, and the later removal of its files. */
export const EXPORT_QUEUE = 'export';
export const EXPIRY_QUEUE = 'export-expiry';

/** Which data an export covers (https://hl7.org/fhir/uv/bulkdata/export.html#endpoint---all-patients). */
export type ExportLevel = 'system' | 'patient' | 'group';

/** `identified`: what the caller may read, as stored; `deidentified`: the release set for reporting. */
export type ExportMode = 'identified' | 'deidentified';

/** How dates are de-identified: shifted by a per-client offset, or cut to the month. */
export type DateHandling = 'shift' | 'month';

/** What was asked, fixed at kick-off. */
export interface ExportRequest {
  level: ExportLevel;
  groupId?: string;
  /** Resource types, in output order. */
  types: string[];
  /** Only resources changed after this instant (`_since`). */
  since?: string;
  mode: ExportMode;
  dateHandling: DateHandling;
  /** The kick-off URL, echoed in the manifest's `request`. */
  requestUrl: string;
  /** The manifest's `transactionTime`: nothing changed after it is exported. */
  transactionTime: string;
  /** The access predicates every page carries (src/policy/access.ts visibility, or the release set). */
  visibility: Predicate[];
  /** Who asked, for the completion audit event. */
  sub: string;
  org: string;
  roles: string[];
}

/** One output file's size so far; the byte length lets a resumed run cut off a half-written page. */
export interface FileProgress {
  bytes: number;
  count: number;
}

/** Where the worker is: type, patient chunk (group level) and the store cursor within it. */
export interface ExportProgress {
  typeIndex: number;
  chunkIndex: number;
  cursor?: string;
  /**
   * lastUpdated of the last resource written for the current type: pages run in (lastUpdated, rid)
   * order and start their index range here. Absent with a cursor only in jobs recorded before that
   * order was introduced; those finish their type in the old (rid) order.
   */
  after?: string;
  files: Record<string, FileProgress>;
  /** Resources left out by de-identification (small sites' directory entries). */
  withheld: number;
}

/** Lookups cached across pages and runs (de-identified mode): clients per site, site of a location. */
export interface SiteCache {
  /** Organization id → number of clients enrolled there. */
  clients: Record<string, number>;
  /** `Location/id` or `HealthcareService/id` → its Organization id ('' when it names none). */
  orgOf: Record<string, string>;
}

export interface ExportPayload {
  request: ExportRequest;
  progress: ExportProgress;
  /** Group level: the member clients, resolved at kick-off. */
  patients?: string[];
  /** De-identified mode: the per-export key behind tokens, ids and date offsets; dropped when done. */
  secret?: string;
  sites?: SiteCache;
}

/** An output entry of the manifest. */
export interface ManifestFile {
  type: string;
  url: string;
  count: number;
}

/** The complete-status body (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status). */
export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: true;
  output: ManifestFile[];
  error: ManifestFile[];
  extension?: Record<string, unknown>;
}

/** What a finished job keeps: the manifest, and when its files go. */
export interface ExportResult {
  manifest: Manifest;
  completed: string;
  expires: string;
}

/** The job owner: the kick-off principal's organisation and subject, unambiguously joined. */
export function ownerOf(p: { org: string; sub: string }): string {
  return JSON.stringify([p.org, p.sub]);
}

/** A fresh progress record. */
export function startProgress(): ExportProgress {
  return { typeIndex: 0, chunkIndex: 0, files: {}, withheld: 0 };
}

/** Resources written so far across all files. */
export function exportedCount(progress: ExportProgress): number {
  return Object.values(progress.files).reduce((n, f) => n + f.count, 0);
}
