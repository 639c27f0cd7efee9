/**
 * The kick-off request (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-kick-off-request):
 * checks the headers and parameters, decides the export's mode and types, and enqueues the job —
 * with its audit event and its later expiry — in one unit of work. Answers 202 with the polling
 * location in Content-Location.
 */
import { randomBytes } from 'node:crypto';
import type { Group } from '@medplum/fhirtypes';
import type { FhirContext, FhirRequest, FhirResponse } from '../fhir/context';
import { header, principalOf } from '../fhir/context';
import { OperationOutcomeError, badRequest, informational, issue, notFound, outcome, unprocessable } from '../fhir/outcome';
import { readInput } from '../fhir/parameters';
import { canSee } from '../policy/access';
import { auditedUnit } from '../audit/recorder';
import type { Principal } from '../auth/principal';
import { type ExportOptions, statusUrl } from './options';
import { EXPIRY_QUEUE, EXPORT_QUEUE, type ExportLevel, type ExportPayload, type ExportRequest, type ExportMode, ownerOf, startProgress } from './job';
import { exportMode, exportTypes, exportVisibility, parseSince } from './scope';

interface ExportInput {
  _outputFormat?: string;
  _since?: string;
  _type?: string | string[];
  dateHandling?: 'shift' | 'month';
}

const KNOWN = new Set(['_outputFormat', '_since', '_type', '_format', 'dateHandling']);
/** The NDJSON names the IG asks servers to accept (https://hl7.org/fhir/uv/bulkdata/export.html#query-parameters). */
const NDJSON = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);
/** Largest group exported: its member list travels in the job. */
const MAX_MEMBERS = 100_000;

/** With `Prefer: handling=lenient` unknown parameters are ignored, otherwise refused (as the IG asks). */
function lenientInput(req: FhirRequest): FhirRequest {
  if (!/(?:^|[;,\s])handling=lenient\b/.test(header(req, 'prefer') ?? '')) return req;
  if (req.method !== 'POST') return { ...req, query: req.query.filter(([k]) => KNOWN.has(k)) };
  const body = req.body as { resourceType?: string; parameter?: { name?: string }[] } | undefined;
  if (body?.resourceType !== 'Parameters' || !Array.isArray(body.parameter)) return req;
  return { ...req, body: { ...body, parameter: body.parameter.filter((p) => KNOWN.has(p?.name ?? '')) } };
}

function requestedTypes(raw: string | string[] | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = ([] as string[]).concat(raw).flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
  if (!list.length) throw badRequest('_type names no type', '_type');
  return list;
}

/** The member clients of a group the caller may use. */
async function groupMembers(ctx: FhirContext, principal: Principal, mode: ExportMode, id: string): Promise<string[]> {
  const v = await ctx.store.read('Group', id);
  // De-identified exports see every organisation's groups, as they see every organisation's data.
  if (!v || v.deleted || (mode === 'identified' && !(await canSee(principal, v, ctx.store)))) throw notFound(`Group/${id} not found`);
  const group = v.resource as Group;
  if (group.actual === false) throw unprocessable('Only groups that list their members (actual = true) can be exported', 'Group.actual');
  const ids = new Set<string>();
  for (const m of group.member ?? []) {
    const match = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(m.entity?.reference ?? '');
    if (match && !m.inactive) ids.add(match[1]!);
  }
  if (ids.size > MAX_MEMBERS) throw new OperationOutcomeError(422, outcome(issue('too-costly', `Groups of more than ${MAX_MEMBERS} members cannot be exported`)));
  return [...ids];
}

function requestUrl(ctx: FhirContext, req: FhirRequest): string {
  const path = `${ctx.config.baseUrl}/${req.path.map((s) => encodeURIComponent(s).replace(/%24/g, '$')).join('/')}`;
  if (req.method === 'POST' || !req.query.length) return path;
  return `${path}?${req.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

/** Handles a kick-off at one level. */
export async function kickOff(ctx: FhirContext, req: FhirRequest, level: ExportLevel, options: ExportOptions, groupId?: string): Promise<FhirResponse> {
  const principal = principalOf(req);
  const mode = exportMode(principal);
  if (!/(?:^|[;,\s])respond-async\b/.test(header(req, 'prefer') ?? '')) {
    throw badRequest('Bulk export runs asynchronously: send the header Prefer: respond-async');
  }
  const input = readInput<ExportInput>(lenientInput(req), 'export');
  if (input._outputFormat !== undefined && !NDJSON.has(input._outputFormat)) {
    throw badRequest('_outputFormat must be application/fhir+ndjson', '_outputFormat');
  }
  if (input.dateHandling && mode !== 'deidentified') throw badRequest('dateHandling applies to de-identified exports only', 'dateHandling');
  const since = parseSince(input._since);
  const types = exportTypes(principal, mode, level, requestedTypes(input._type));
  const patients = level === 'group' ? await groupMembers(ctx, principal, mode, groupId!) : undefined;
  const owner = ownerOf(principal);
  const active = await ctx.store.listJobs(EXPORT_QUEUE, { owner, states: ['queued', 'running'] });
  if (active.length >= options.maxActivePerOwner) {
    throw new OperationOutcomeError(429, outcome(issue('throttled', `You have ${active.length} exports in progress; wait for one to finish or cancel one`)), { 'Retry-After': '60' });
  }
  const request: ExportRequest = {
    level,
    ...(groupId ? { groupId } : {}),
    types,
    ...(since ? { since } : {}),
    mode,
    dateHandling: input.dateHandling ?? 'shift',
    requestUrl: requestUrl(ctx, req),
    transactionTime: new Date().toISOString(),
    visibility: exportVisibility(principal, mode),
    sub: principal.sub,
    org: principal.org,
    roles: principal.roles,
  };
  const payload: ExportPayload = {
    request,
    progress: startProgress(),
    ...(patients ? { patients } : {}),
    ...(mode === 'deidentified' ? { secret: randomBytes(32).toString('base64') } : {}),
  };
  const job = await auditedUnit(ctx.store, req.audit, async (tx) => {
    const j = await tx.enqueueJob(EXPORT_QUEUE, payload, { owner });
    await tx.enqueueJob(EXPIRY_QUEUE, { jobId: j.id }, { notBefore: new Date(Date.now() + options.retentionMs).toISOString() });
    req.audit.add({
      action: 'E',
      subtype: '$export',
      outcome: '0',
      outcomeDesc: `export ${j.id} started (${mode}, ${level} level)`,
      query: { types, results: 0 },
      ...(groupId ? { references: [`Group/${groupId}`] } : {}),
    });
    return j;
  });
  ctx.workers?.kick(EXPORT_QUEUE);
  return {
    status: 202,
    headers: { 'Content-Location': statusUrl(ctx.config, job.id) },
    body: informational(`Export ${job.id} accepted; poll the Content-Location for its status`),
  };
}
