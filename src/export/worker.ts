/**
 * The export workers. A turn claims a job (atomically, in the store), writes up to `pagesPerTurn`
 * pages, recording progress at most every `commitMs` and at its end, then puts the job back in the
 * queue so that other jobs — and other linkcare instances — get their turn. A job whose instance
 * died is claimed again when its lease runs out and resumes from its last recorded page.
 */
import type { Logger } from 'pino';
import type { FhirContext } from '../fhir/context';
import type { Worker } from '../jobs/workers';
import type { Job } from '../store/port';
import type { Principal } from '../auth/principal';
import { buildAuditEvent } from '../audit/events';
import { type ExportOptions, exportDir, fileUrl } from './options';
import { EXPIRY_QUEUE, EXPORT_QUEUE, type ExportPayload, type ExportResult, type Manifest, exportedCount } from './job';
import { OutputFiles, fileName, removeFiles, restoreFiles } from './files';
import { type PageStep, nextPage } from './page';

/** Failed turns (not crashes: those end in a lease expiry) before a job is given up. */
const MAX_FAILURES = 3;

const later = (ms: number): string => new Date(Date.now() + ms).toISOString();

/** Whether this run still holds the job: running, and not claimed again by someone else since. */
async function stillOurs(ctx: FhirContext, job: Job): Promise<boolean> {
  const now = await ctx.store.getJob(job.id);
  if (now?.state === 'cancelled') await removeFiles(exportDir(ctx.config, job.id));
  return now?.state === 'running' && now.attempts === job.attempts;
}

/** The complete-status manifest (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status). */
export function buildManifest(ctx: FhirContext, jobId: string, payload: ExportPayload): Manifest {
  const { request, progress } = payload;
  const output = request.types
    .filter((t) => (progress.files[t]?.count ?? 0) > 0)
    .map((t) => ({ type: t, url: fileUrl(ctx.config, jobId, fileName(t)), count: progress.files[t]!.count }));
  return {
    transactionTime: request.transactionTime,
    request: request.requestUrl,
    requiresAccessToken: true,
    output,
    error: [],
    ...(request.mode === 'deidentified'
      ? { extension: { 'https://linkcare.example.org/fhir/bulk/deidentified': { dateHandling: request.dateHandling, withheld: progress.withheld } } }
      : {}),
  };
}

/** Records the finished export in the audit trail: who, which types, how many resources. */
async function auditCompletion(ctx: FhirContext, job: Job, payload: ExportPayload): Promise<void> {
  const { request, progress } = payload;
  const principal = { sub: request.sub, org: request.org, roles: request.roles } as Principal;
  const counts = request.types.filter((t) => progress.files[t]?.count).map((t) => `${t} ${progress.files[t]!.count}`);
  const event = buildAuditEvent({ principal, requestId: `export/${job.id}` }, {
    action: 'E',
    subtype: '$export',
    outcome: '0',
    outcomeDesc: `export ${job.id} complete (${request.mode}): ${counts.join(', ') || 'nothing'}`.slice(0, 1000),
    query: { types: request.types, results: exportedCount(progress) },
  }, new Map());
  await ctx.store.unitOfWork((tx) => tx.appendAudit(event, request.org));
}

async function finish(ctx: FhirContext, job: Job, payload: ExportPayload, options: ExportOptions): Promise<void> {
  // Audit first: a crash in between repeats the event on the rerun rather than losing it.
  await auditCompletion(ctx, job, payload);
  const result: ExportResult = { manifest: buildManifest(ctx, job.id, payload), completed: new Date().toISOString(), expires: later(options.retentionMs) };
  // The de-identification key goes with the run: nothing can link the output back afterwards.
  const { secret: _secret, sites: _sites, ...kept } = payload;
  await ctx.store.updateJob(job.id, { state: 'done', result, payload: kept, leaseUntil: null }, 'running');
}

/** Folds a written page into the job's progress (in memory until the next progress record). */
function advanceProgress(payload: ExportPayload, step: PageStep, bytes: number): void {
  const before = payload.progress.files[step.type] ?? { bytes: 0, count: 0 };
  const files = step.lines.length ? { ...step.next.files, [step.type]: { bytes: before.bytes + bytes, count: before.count + step.lines.length } } : step.next.files;
  payload.progress = { ...step.next, files, withheld: payload.progress.withheld + step.withheld };
}

/** One turn of one export job. */
export async function runExportTurn(ctx: FhirContext, job: Job, log: Logger, options: ExportOptions): Promise<void> {
  const payload = job.payload as ExportPayload;
  const dir = exportDir(ctx.config, job.id);
  const key = payload.secret ? Buffer.from(payload.secret, 'base64') : undefined;
  const out = new OutputFiles(dir);
  try {
    await restoreFiles(dir, payload.progress.files);
    let recordedAt = Date.now();
    for (let pages = 0; pages < options.pagesPerTurn; pages++) {
      const step = await nextPage(ctx, payload, options, key);
      if (!step) {
        if (!(await stillOurs(ctx, job))) return;
        await out.sync();
        return await finish(ctx, job, payload, options);
      }
      if (!(await stillOurs(ctx, job))) return;
      advanceProgress(payload, step, await out.append(step.type, step.lines));
      if (Date.now() - recordedAt < options.commitMs) continue;
      // Files reach the disk before the progress that counts their bytes is recorded.
      await out.sync();
      const saved = await ctx.store.updateJob(job.id, { payload, leaseUntil: later(options.leaseMs) }, 'running');
      if (!saved) {
        await stillOurs(ctx, job);
        return;
      }
      recordedAt = Date.now();
    }
    await out.sync();
    // Progress and the requeue in one write; a job cancelled meanwhile stays cancelled.
    await ctx.store.updateJob(job.id, { state: 'queued', payload, notBefore: new Date().toISOString(), leaseUntil: null }, 'running');
  } catch (err) {
    const failures = ((job.payload as { failures?: number }).failures ?? 0) + 1;
    log.warn({ queue: EXPORT_QUEUE, job: job.id, failures, err: err instanceof Error ? err.name : 'error' }, 'export turn failed');
    if (failures >= MAX_FAILURES) {
      await ctx.store.updateJob(job.id, { state: 'failed', error: 'export failed', leaseUntil: null }, 'running');
      await removeFiles(dir);
    } else {
      const current = await ctx.store.getJob(job.id);
      const retry = { ...(current?.payload as object), failures };
      await ctx.store.updateJob(job.id, { state: 'queued', payload: retry, notBefore: later(1000 * 2 ** failures), leaseUntil: null }, 'running');
    }
  } finally {
    await out.close();
  }
}

/** Expiry of one export: files removed once the retention time after completion has passed. */
export async function runExpiry(ctx: FhirContext, job: Job, options: ExportOptions): Promise<void> {
  const { jobId } = job.payload as { jobId: string };
  const target = await ctx.store.getJob(jobId);
  const retryAt = (at: string) => ctx.store.updateJob(job.id, { state: 'queued', notBefore: at, leaseUntil: null }, 'running');
  if (target && (target.state === 'queued' || target.state === 'running')) return void (await retryAt(later(options.retentionMs)));
  if (target?.state === 'done') {
    const expires = (target.result as ExportResult).expires;
    if (expires > new Date().toISOString()) return void (await retryAt(expires));
    await ctx.store.updateJob(jobId, { state: 'cancelled', error: 'expired' }, 'done');
  }
  await removeFiles(exportDir(ctx.config, jobId));
  await ctx.store.updateJob(job.id, { state: 'done', leaseUntil: null }, 'running');
}

/** The workers of the export module. */
export function exportWorkers(options: ExportOptions): Worker[] {
  return [
    { queue: EXPORT_QUEUE, intervalMs: options.pollMs, leaseMs: options.leaseMs, batch: 1, run: (ctx, job, log) => runExportTurn(ctx, job, log, options) },
    { queue: EXPIRY_QUEUE, intervalMs: Math.max(options.pollMs, 60_000), leaseMs: options.leaseMs, batch: 10, run: (ctx, job) => runExpiry(ctx, job, options) },
  ];
}
