/**
 * Tunables of the export module. Defaults suit production; tests and the bench pass smaller pages
 * and shorter turns. (Config has no export settings yet: see docs/export.md.)
 */
import { join } from 'node:path';
import type { Config } from '../config';

export interface ExportOptions {
  /** Resources per store page (keyset paging: memory stays bounded by one page). */
  pageSize: number;
  /** Pages per turn; then the job goes back to the queue so other jobs and instances get a go. */
  pagesPerTurn: number;
  /**
   * Least time between two progress records within a turn (each flushes the files to disk first,
   * and costs an fsync and a job write). A turn also records at its end. A crash repeats at most
   * this much work, never writes it twice (files are cut back to the recorded lengths).
   */
  commitMs: number;
  /** How long a claimed job is this instance's before another may resume it. */
  leaseMs: number;
  /** How often idle workers look for jobs. */
  pollMs: number;
  /** How long finished files are kept (the manifest's Expires). */
  retentionMs: number;
  /** Active (queued or running) exports one caller may have at once; more get 429. */
  maxActivePerOwner: number;
  /** De-identified mode: a site with fewer enrolled clients is generalised. */
  smallSiteClients: number;
  /** Group level: member clients per query. */
  patientChunk: number;
}

export const DEFAULT_OPTIONS: ExportOptions = {
  pageSize: 500,
  pagesPerTurn: 50,
  commitMs: 1000,
  leaseMs: 60_000,
  pollMs: 2_000,
  retentionMs: 24 * 3600_000,
  maxActivePerOwner: 3,
  smallSiteClients: 10,
  patientChunk: 100,
};

/** Where a job's files live. */
export function exportDir(config: Config, jobId: string): string {
  return join(config.dataDir, 'exports', jobId);
}

/**
 * The public root of the server (the FHIR base without its `/fhir` mount): status and files are
 * served outside /fhir because the FHIR router takes every path below it.
 */
export function publicRoot(config: Config): string {
  return config.baseUrl.replace(/\/fhir$/, '');
}

/** The polling location of a job. */
export function statusUrl(config: Config, jobId: string): string {
  return `${publicRoot(config)}/bulk-export/${jobId}`;
}

/** The download URL of one output file. */
export function fileUrl(config: Config, jobId: string, name: string): string {
  return `${statusUrl(config, jobId)}/files/${name}`;
}
