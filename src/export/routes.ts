/**
 * Status, download and cancel of an export, outside /fhir (the FHIR router owns every path below
 * it): `GET|DELETE /bulk-export/<job>` and `GET /bulk-export/<job>/files/<Type>.ndjson`
 * (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-status-request). Only the principal that
 * kicked the export off (same subject and organisation) sees it; anyone else gets 404, as for an
 * invisible resource. Every request is audited.
 */
import { pipeline } from 'node:stream/promises';
import type { Express, Request, Response } from 'express';
import type { ModuleHost } from '../modules';
import type { FhirContext } from '../fhir/context';
import type { Principal } from '../auth/principal';
import type { Job } from '../store/port';
import { AuditTrail } from '../audit/recorder';
import type { AuditEntry } from '../audit/events';
import { failureEntry } from '../audit/entries';
import { OperationOutcomeError, forbidden, issue, notFound, outcome } from '../fhir/outcome';
import { exportDir } from './options';
import { EXPORT_QUEUE, type ExportPayload, type ExportResult, exportedCount, ownerOf } from './job';
import { isFileName, openFile, removeFiles } from './files';
import { exportMode } from './scope';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether a finished export's files are past their expiry (the expiry worker may not have run yet). */
function expired(job: Job): boolean {
  return job.state === 'done' && (job.result as ExportResult).expires <= new Date().toISOString();
}

/** The caller's own, live export; 404 for anything else. */
async function ownJob(ctx: FhirContext, principal: Principal, id: string): Promise<Job> {
  const job = UUID.test(id) ? await ctx.store.getJob(id) : undefined;
  if (!job || job.queue !== EXPORT_QUEUE || job.owner !== ownerOf(principal) || job.state === 'cancelled' || expired(job)) {
    throw notFound('No such export (it may have been cancelled or have expired)');
  }
  // The role that started it must still hold: a clinician turned reporting user gets no identified data.
  if (exportMode(principal) !== (job.payload as ExportPayload).request.mode) throw forbidden('Your role no longer allows this export');
  return job;
}

/** Runs a route with an audit trail: success entries from the handler, a failure entry otherwise. */
function audited(ctx: FhirContext, handler: (req: Request, res: Response, trail: AuditTrail, principal: Principal) => Promise<void>) {
  return async (req: Request, res: Response): Promise<void> => {
    const principal = res.locals.principal as Principal;
    const trail = new AuditTrail({ principal, requestId: String(res.locals.requestId) });
    try {
      await handler(req, res, trail, principal);
    } catch (err) {
      trail.discard();
      const status = err instanceof OperationOutcomeError ? err.status : 500;
      trail.add(failureEntry(req.method, ['$export', String(req.params.id)], status, err instanceof OperationOutcomeError ? (err.outcome.issue?.[0]?.code ?? 'error') : 'internal error'));
      await ctx.audit.commit(trail).catch(() => undefined);
      throw err;
    }
  };
}

function entry(action: AuditEntry['action'], desc: string, types: string[], results: number): AuditEntry {
  return { action, subtype: '$export', outcome: '0', outcomeDesc: desc, query: { types, results } };
}

/** Registers the routes. */
export function exportRoutes(app: Express, host: ModuleHost): void {
  const { ctx } = host;

  app.get('/bulk-export/:id', ...host.authenticated, audited(ctx, async (req, res, trail, principal) => {
    const job = await ownJob(ctx, principal, String(req.params.id));
    const payload = job.payload as ExportPayload;
    if (job.state === 'failed') {
      throw new OperationOutcomeError(500, outcome(issue('exception', `Export ${job.id} failed; start a new one`)));
    }
    if (job.state !== 'done') {
      const { request, progress } = payload;
      const type = request.types[progress.typeIndex];
      res.status(202).set({ 'X-Progress': `${exportedCount(progress)} resources; ${type ?? 'finishing'} (type ${Math.min(progress.typeIndex + 1, request.types.length)} of ${request.types.length})`, 'Retry-After': '2' });
      res.end();
      return;
    }
    const result = job.result as ExportResult;
    trail.add(entry('R', `export ${job.id} status: complete`, result.manifest.output.map((o) => o.type), 0));
    await ctx.audit.commit(trail);
    res.status(200).set('Expires', new Date(result.expires).toUTCString()).type('application/json').send(JSON.stringify(result.manifest));
  }));

  app.delete('/bulk-export/:id', ...host.authenticated, audited(ctx, async (req, res, trail, principal) => {
    const job = await ownJob(ctx, principal, String(req.params.id));
    const cancelled = await ctx.store.updateJob(job.id, { state: 'cancelled', leaseUntil: null }, job.state);
    if (!cancelled) throw new OperationOutcomeError(409, outcome(issue('conflict', 'The export changed state meanwhile; try again')));
    // A worker in the middle of a page notices the cancellation at its next step and removes them again.
    await removeFiles(exportDir(ctx.config, job.id));
    trail.add(entry('D', `export ${job.id} cancelled`, (job.payload as ExportPayload).request.types, exportedCount((job.payload as ExportPayload).progress)));
    await ctx.audit.commit(trail);
    res.status(202).end();
  }));

  app.get('/bulk-export/:id/files/:name', ...host.authenticated, audited(ctx, async (req, res, trail, principal) => {
    const job = await ownJob(ctx, principal, String(req.params.id));
    const name = String(req.params.name);
    const file = job.state === 'done' && isFileName(name) ? (job.result as ExportResult).manifest.output.find((o) => o.url.endsWith(`/files/${name}`)) : undefined;
    if (!file) throw notFound('No such file in this export');
    const stream = await openFile(exportDir(ctx.config, job.id), name);
    if (!stream) throw notFound('The file is gone (the export expired or was cancelled)');
    trail.add(entry('R', `export ${job.id} download ${name}`, [file.type], file.count));
    await ctx.audit.commit(trail).catch((err: unknown) => {
      stream.destroy();
      throw err;
    });
    res.status(200).type('application/fhir+ndjson');
    await pipeline(stream, res);
  }));
}
