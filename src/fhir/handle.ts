/**
 * The top of every FHIR request: route it, then write what it did to the audit trail. Writes
 * flush their entries inside their own unit of work; reads and refusals are flushed here.
 */
import { type FhirContext, type FhirRequest, type FhirResponse, purposeOf } from './context';
import { OperationOutcomeError } from './outcome';
import { route } from './router';
import { failureEntry } from '../audit/entries';

/** The public metadata endpoint is the one request not audited: it says nothing about anyone. */
function audited(req: FhirRequest): boolean {
  return !(req.path.length === 1 && req.path[0] === 'metadata');
}

/** Routes the request and records it in the audit trail. */
export async function handle(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  try {
    await ctx.ready;
    // Every interaction, writes and operations included, not only those that decide by purpose:
    // the declared purpose goes into each AuditEvent, and an emergency one is a clinician's (403).
    if (req.principal) purposeOf(req);
    const res = await route(ctx, req);
    if (req.audit.size) await ctx.audit.commit(req.audit);
    return res;
  } catch (err) {
    req.audit.discard();
    if (audited(req)) {
      const status = err instanceof OperationOutcomeError ? err.status : 500;
      const message = err instanceof OperationOutcomeError ? (err.outcome.issue?.[0]?.code ?? 'error') : 'internal error';
      req.audit.add(failureEntry(req.method, req.path, status, message));
      // The original error is what the client must see, even if recording it fails too.
      await ctx.audit.commit(req.audit).catch(() => undefined);
    }
    throw err;
  }
}
