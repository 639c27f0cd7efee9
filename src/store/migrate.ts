/**
 * Copies one store into another (`npm run migrate -- --from <DATABASE_URL> --to <DATABASE_URL>`):
 * every version (with its seq, versionId, lastUpdated and method), enrolments, pseudonyms, the
 * audit chain with its head, and jobs. Index values are rebuilt at the target (its reindex).
 * Streams in batches (bounded memory), records its progress at the target so an interrupted run
 * resumes where it stopped (every import is idempotent), and ends by comparing counts and
 * content hashes of both sides.
 */
import { createHash } from 'node:crypto';
import type { Job } from './port';

/** One version as exported: the storage-neutral row. */
export interface ExportedVersion {
  seq: number;
  type: string;
  id: string;
  version: number;
  lastUpdated: string;
  deleted: boolean;
  method: string;
  custodian?: string;
  patient?: string;
  content?: string;
}

export interface ExportedEnrolment { patientId: string; org: string; enrolledAt: string }
export interface ExportedPseudonym { kind: string; key: string; patientId: string }
export interface ExportedLink { seq: number; eventId: string; prevHash: string; hash: string }

/** Read side of a migration: everything, in a stable order, page by page after a key. */
export interface MigrationSource {
  versions(afterSeq: number, limit: number): Promise<ExportedVersion[]>;
  enrolments(after: string, limit: number): Promise<(ExportedEnrolment & { key: string })[]>;
  pseudonyms(after: string, limit: number): Promise<(ExportedPseudonym & { key2: string })[]>;
  auditLinks(afterSeq: number, limit: number): Promise<ExportedLink[]>;
  auditHead(): Promise<{ seq: number; hash: string } | undefined>;
  jobs(afterId: string, limit: number): Promise<Job[]>;
  close(): Promise<void>;
}

/** Write side: idempotent raw imports, progress bookkeeping, and the same reads for verification. */
export interface MigrationTarget extends MigrationSource {
  importVersions(rows: ExportedVersion[]): Promise<void>;
  importEnrolments(rows: ExportedEnrolment[]): Promise<void>;
  importPseudonyms(rows: ExportedPseudonym[]): Promise<void>;
  importAuditLinks(rows: ExportedLink[]): Promise<void>;
  setAuditHead(head: { seq: number; hash: string }): Promise<void>;
  importJobs(rows: Job[]): Promise<void>;
  /** Progress recorded by `setProgress`, or undefined on a fresh target. */
  progress(): Promise<Progress | undefined>;
  setProgress(p: Progress): Promise<void>;
  /** Rebuilds the search index of every current resource. */
  reindex(): Promise<number>;
}

type Phase = 'versions' | 'enrolments' | 'pseudonyms' | 'audit' | 'jobs' | 'index' | 'done';
/** Where a migration is: the phase and the last key copied in it. */
export interface Progress {
  phase: Phase;
  after: string;
}

const PHASES: Phase[] = ['versions', 'enrolments', 'pseudonyms', 'audit', 'jobs', 'index', 'done'];

/** Counts and content hashes of one side. */
export interface Digest {
  versions: number;
  enrolments: number;
  pseudonyms: number;
  auditLinks: number;
  jobs: number;
  hash: Record<'versions' | 'enrolments' | 'pseudonyms' | 'auditLinks' | 'jobs', string>;
}

export interface MigrateOptions {
  batchSize?: number;
  /** Called after each batch (progress output). */
  onProgress?: (phase: string, copied: number) => void;
  /** Stop after this many batches (tests simulate an interruption with it). */
  maxBatches?: number;
}

/** Thrown when `maxBatches` stops a run early. */
export class MigrationInterrupted extends Error {
  constructor() {
    super('migration interrupted; run it again to resume');
    this.name = 'MigrationInterrupted';
  }
}

/** Copies `from` into `to`, resuming from the target's recorded progress; returns both digests (equal on success). */
export async function migrate(from: MigrationSource, to: MigrationTarget, options: MigrateOptions = {}): Promise<{ source: Digest; target: Digest }> {
  const size = options.batchSize ?? 500;
  let batches = 0;
  let progress = (await to.progress()) ?? { phase: 'versions', after: '' };
  const step = async (p: Progress, copied: number) => {
    await to.setProgress(p);
    progress = p;
    options.onProgress?.(p.phase, copied);
    if (options.maxBatches !== undefined && ++batches >= options.maxBatches) throw new MigrationInterrupted();
  };
  const at = (phase: Phase) => PHASES.indexOf(progress.phase) <= PHASES.indexOf(phase);

  if (at('versions')) {
    for (let after = progress.phase === 'versions' ? Number(progress.after || 0) : 0; ; ) {
      const rows = await from.versions(after, size);
      if (!rows.length) break;
      await to.importVersions(rows);
      after = rows[rows.length - 1]!.seq;
      await step({ phase: 'versions', after: String(after) }, rows.length);
    }
    await step({ phase: 'enrolments', after: '' }, 0);
  }
  if (at('enrolments')) {
    for (let after = progress.after; ; ) {
      const rows = await from.enrolments(after, size);
      if (!rows.length) break;
      await to.importEnrolments(rows);
      after = rows[rows.length - 1]!.key;
      await step({ phase: 'enrolments', after }, rows.length);
    }
    await step({ phase: 'pseudonyms', after: '' }, 0);
  }
  if (at('pseudonyms')) {
    for (let after = progress.after; ; ) {
      const rows = await from.pseudonyms(after, size);
      if (!rows.length) break;
      await to.importPseudonyms(rows);
      after = rows[rows.length - 1]!.key2;
      await step({ phase: 'pseudonyms', after }, rows.length);
    }
    await step({ phase: 'audit', after: '' }, 0);
  }
  if (at('audit')) {
    for (let after = Number(progress.after || 0); ; ) {
      const rows = await from.auditLinks(after, size);
      if (!rows.length) break;
      await to.importAuditLinks(rows);
      after = rows[rows.length - 1]!.seq;
      await step({ phase: 'audit', after: String(after) }, rows.length);
    }
    const head = await from.auditHead();
    if (head) await to.setAuditHead(head);
    await step({ phase: 'jobs', after: '' }, 0);
  }
  if (at('jobs')) {
    for (let after = progress.after; ; ) {
      const rows = await from.jobs(after, size);
      if (!rows.length) break;
      await to.importJobs(rows);
      after = rows[rows.length - 1]!.id;
      await step({ phase: 'jobs', after }, rows.length);
    }
    await step({ phase: 'index', after: '' }, 0);
  }
  if (at('index')) {
    const n = await to.reindex();
    await step({ phase: 'done', after: '' }, n);
  }
  const [source, target] = [await digest(from, size), await digest(to, size)];
  return { source, target };
}

/** Counts and SHA-256 hashes over every exported row, in export order; streams page by page. */
export async function digest(s: MigrationSource, size = 500): Promise<Digest> {
  const d: Digest = { versions: 0, enrolments: 0, pseudonyms: 0, auditLinks: 0, jobs: 0, hash: { versions: '', enrolments: '', pseudonyms: '', auditLinks: '', jobs: '' } };
  const run = async <T>(name: keyof Digest['hash'], page: (after: T) => Promise<unknown[]>, next: (last: never) => T, start: T, canon: (row: never) => unknown) => {
    const h = createHash('sha256');
    for (let after = start; ; ) {
      const rows = await page(after);
      if (!rows.length) break;
      for (const r of rows) h.update(JSON.stringify(canon(r as never))).update('\n');
      d[name] += rows.length;
      after = next(rows[rows.length - 1] as never);
    }
    d.hash[name] = h.digest('hex');
  };
  await run('versions', (a: number) => s.versions(a, size), (r: ExportedVersion) => r.seq, 0, (r: ExportedVersion) => [r.seq, r.type, r.id, r.version, r.lastUpdated, r.deleted, r.method, r.custodian ?? null, r.patient ?? null, r.content ?? null]);
  await run('enrolments', (a: string) => s.enrolments(a, size), (r: { key: string }) => r.key, '', (r: ExportedEnrolment) => [r.patientId, r.org, r.enrolledAt]);
  await run('pseudonyms', (a: string) => s.pseudonyms(a, size), (r: { key2: string }) => r.key2, '', (r: ExportedPseudonym) => [r.kind, r.key, r.patientId]);
  await run('auditLinks', (a: number) => s.auditLinks(a, size), (r: ExportedLink) => r.seq, 0, (r: ExportedLink) => [r.seq, r.eventId, r.prevHash, r.hash]);
  await run('jobs', (a: string) => s.jobs(a, size), (r: Job) => r.id, '', (r: Job) => [r.id, r.queue, r.state, r.payload, r.result ?? null, r.attempts, r.notBefore, r.leaseUntil ?? null, r.error ?? null, r.owner ?? null, r.created, r.updated]);
  return d;
}

/** Whether two digests describe the same data. */
export function sameDigest(a: Digest, b: Digest): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
