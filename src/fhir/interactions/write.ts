/**
 * The write interactions on an open unit of work: create, update, patch, delete and their
 * conditional forms (http://hl7.org/fhir/R4/http.html#create and following sections).
 * HTTP handlers and Bundle processing both call these, so a transaction entry behaves exactly
 * like the single request it stands for, access checks included.
 */
import { newTimeOrderedId } from '../../store/time-ordered-id';
import type { Resource } from '@medplum/fhirtypes';
import type { FhirContext, QueryPairs } from '../context';
import { badRequest, conflict, forbidden, invalid, notAllowed, notFound, preconditionFailed, unprocessable } from '../outcome';
import { ID_PATTERN, isReadOnlyType } from '../resource-types';
import { type StoreTx, type StoredVersion, VersionConflictError } from '../../store/port';
import { parseSearch } from '../../search/parse';
import { patientOf } from '../../search/compartment';
import { applyJsonPatch } from '../json-patch';
import type { Principal } from '../../auth/principal';
import { assertAllowed, canSee, mayChange, visibility } from '../../policy/access';
import { guardResource } from '../guards';
import { resolveValueSets, storedValueSets } from '../../search/value-sets';
import { assignClientCode } from '../../privacy/client-code-assign';
import { CLIENT_CODE_SYSTEM, clientCodeMemoKey } from '../../privacy/client-code';
import type { Patient, Task } from '@medplum/fhirtypes';
import { type WriteEvent, runAfterRules, runBeforeRules, shownResource } from '../rules';
import { isConditionalReference, unresolvableReference } from '../bundle/references';

export interface WriteResult {
  status: number;
  version: StoredVersion;
  message: string;
}

/** Who is writing. */
export interface WriteActor {
  principal: Principal;
}

function assertWritableType(type: string): void {
  if (!isReadOnlyType(type)) return;
  throw notAllowed(`${type} is written by the server only`, ['GET', 'HEAD']);
}

/** `If-Match: *`: any current version matches (RFC 9110 §13.1.1). */
export const ANY_VERSION = '*';

/**
 * The version an If-Match value expects of `current`: `*` becomes the current version id, so the
 * write is still atomic. Any If-Match fails (412) when there is no current version to match
 * (RFC 9110 §13.1.1), whether the value is `*` or a version.
 */
function expectedVersion(type: string, id: string, current: StoredVersion | undefined, ifMatch: string | undefined): string | undefined {
  if (ifMatch === undefined) return undefined;
  if (!current || current.deleted) throw preconditionFailed(`If-Match was given but ${type}/${id} has no current version`);
  return ifMatch === ANY_VERSION ? current.versionId : ifMatch;
}

/**
 * Refuses (422) a reference that stays unresolvable once stored: a search URL (conditional
 * references resolve inside a transaction only) or a `urn:uuid:`/`urn:oid:` that no transaction
 * entry replaced (http://hl7.org/fhir/R4/http.html#trules).
 */
function assertResolvableReferences(resource: Resource): void {
  const bad = unresolvableReference(resource);
  if (!bad) return;
  const why = isConditionalReference(bad.ref)
    ? 'is a search URL: conditional references are resolved only inside a transaction Bundle'
    : 'names a Bundle entry: such references are resolved only inside a transaction Bundle that has an entry with that fullUrl';
  throw unprocessable(`Reference "${bad.ref}" ${why}`, bad.path);
}

/** Checks the body is a resource of `type` and valid; returns it without server-owned meta. */
export function prepareResource(ctx: FhirContext, type: string, body: unknown): Resource {
  if (body === undefined || body === null) throw badRequest('A resource body is required');
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('The body must be a JSON object (a FHIR resource)');
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (resourceType !== type) {
    throw badRequest(`resourceType "${String(resourceType)}" does not match the URL type ${type}`, `${type}.resourceType`);
  }
  const issues = ctx.validator.validate(body);
  if (issues.length) throw invalid(issues, 400);
  const resource = { ...(body as Resource) };
  if (resource.meta) {
    // versionId and lastUpdated are the server's (http://hl7.org/fhir/R4/resource.html#Meta).
    const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta;
    if (Object.keys(meta).length) resource.meta = meta;
    else delete resource.meta;
  }
  guardResource(ctx, resource);
  assertResolvableReferences(resource);
  return resource;
}

function conflictToPrecondition(err: unknown): never {
  if (err instanceof VersionConflictError) {
    throw preconditionFailed(`Version mismatch on ${err.type}/${err.id}: current version is ${err.currentVersion ?? 'none (deleted or absent)'}`);
  }
  throw err;
}

/**
 * The client the resource is about, checked to be enrolled at the writer's organisation (else 422,
 * as if absent). Enrolment, not read permission: a token scoped to Observation alone may still
 * record an Observation about its organisation's client.
 */
async function clientOf(ctx: FhirContext, tx: StoreTx, resource: Resource, principal: Principal): Promise<string | undefined> {
  if (resource.resourceType === 'Patient') return resource.id;
  const found = patientOf(ctx.registry, resource);
  if (!found) return undefined;
  // Once per client and unit of work: the 50 entries of a transaction about one client read and
  // check the Patient once. Patient writes in the unit drop the entry (forgetClient).
  const key = `client:${principal.org}:${resource.resourceType === 'Task' ? 'task:' : ''}${found.id}`;
  if (tx.memo.get(key) !== true) {
    const patient = await tx.read('Patient', found.id);
    if (!patient || patient.deleted || !(await knowsClient(tx, resource, patient, principal))) {
      throw unprocessable(`Patient/${found.id} is not known to your organisation`, found.expression);
    }
    rememberClientCode(tx, patient);
    // A Task's check depends on its owner, so only ordinary (enrolment) answers are shared.
    if (resource.resourceType !== 'Task') tx.memo.set(key, true);
  }
  return found.id;
}

/**
 * Keeps the client code of a Patient just read, so the audit trail of the same unit of work can
 * name the client without reading and parsing the Patient again (src/audit/recorder.ts).
 */
function rememberClientCode(tx: StoreTx, patient: StoredVersion): void {
  const code = (patient.resource as Patient | undefined)?.identifier?.find((i) => i.system === CLIENT_CODE_SYSTEM)?.value;
  if (code) tx.memo.set(clientCodeMemoKey(patient.id), code);
}

/** Forgets memoised client checks and codes after a Patient write in the unit (it may have been deleted or changed). */
function forgetClient(tx: StoreTx, type: string): void {
  if (type !== 'Patient') return;
  for (const k of [...tx.memo.keys()]) if (k.startsWith('client:') || k.startsWith('client-code:')) tx.memo.delete(k);
}

/** The client is enrolled here, or (for the receiving end of a referral) the Task is ours and we may see the client. */
async function knowsClient(tx: StoreTx, resource: Resource, patient: StoredVersion, principal: Principal): Promise<boolean> {
  if ((await tx.enrolments(patient.id)).includes(principal.org)) return true;
  return resource.resourceType === 'Task' && (resource as Task).owner?.reference === `Organization/${principal.org}` && (await canSee(principal, patient, tx));
}

/** The current version when the writer may see it; invisible resources are treated as absent. */
async function visible(tx: StoreTx, type: string, id: string, principal: Principal): Promise<StoredVersion | undefined> {
  const v = await tx.read(type, id);
  return v && (await canSee(principal, v, tx)) ? v : undefined;
}

async function assertMayChange(tx: StoreTx, v: StoredVersion, principal: Principal): Promise<void> {
  if (!(await mayChange(principal, v, tx))) throw forbidden(`${v.type}/${v.id} is held by another organisation`);
}

/** Finds the current resources matching a conditional query that the writer may see (at most 2). */
export async function findConditional(ctx: FhirContext, tx: StoreTx, type: string, query: QueryPairs, principal: Principal): Promise<StoredVersion[]> {
  if (!query.length) throw badRequest('A conditional interaction needs search criteria');
  const { plan } = parseSearch(ctx.registry, [type], query, { conditional: true, baseUrl: ctx.config.baseUrl });
  plan.count = 2;
  plan.total = 'none';
  plan.sort = [];
  plan.visibility = visibility(principal);
  await resolveValueSets(plan, storedValueSets((p) => tx.search(p)));
  return (await tx.search(plan)).matches;
}

/** create, with optional If-None-Exist (http://hl7.org/fhir/R4/http.html#ccreate). */
export async function createIn(
  ctx: FhirContext, tx: StoreTx, type: string, body: unknown, actor: WriteActor,
  opts: { ifNoneExist?: QueryPairs; id?: string } = {},
): Promise<WriteResult> {
  assertWritableType(type);
  assertAllowed(actor.principal, type, 'c');
  const resource = prepareResource(ctx, type, body);
  if (opts.ifNoneExist) {
    const found = await findConditional(ctx, tx, type, opts.ifNoneExist, actor.principal);
    if (found.length > 1) throw preconditionFailed('If-None-Exist matched more than one resource');
    if (found.length === 1) return { status: 200, version: found[0]!, message: 'Resource already exists; nothing created' };
  }
  const id = opts.id ?? newTimeOrderedId();
  const event: WriteEvent = { action: 'create', type, id, principal: actor.principal };
  const ruled = (await runBeforeRules(ctx, tx, { ...event, resource: { ...resource, id } }))!;
  const patient = await clientOf(ctx, tx, ruled, actor.principal);
  const toStore = type === 'Patient' ? await assignClientCode(tx, ruled as Patient & { id: string }) : ruled;
  const version = await tx.put(toStore, { custodian: actor.principal.org, patient, method: 'POST' });
  forgetClient(tx, type);
  if (type === 'Patient') await tx.enrol(id, actor.principal.org);
  await runAfterRules(ctx, tx, event, version);
  return { status: 201, version, message: `Created ${type}/${id}` };
}

/** update by id, with If-Match and update-as-create (http://hl7.org/fhir/R4/http.html#update). */
export async function updateIn(
  ctx: FhirContext, tx: StoreTx, type: string, id: string, body: unknown, actor: WriteActor, ifMatch?: string,
): Promise<WriteResult> {
  assertWritableType(type);
  assertAllowed(actor.principal, type, 'u');
  if (!ID_PATTERN.test(id)) throw badRequest(`"${id}" is not a valid resource id`);
  const resource = prepareResource(ctx, type, body);
  if (resource.id === undefined) throw badRequest('The resource must carry its id for an update', `${type}.id`);
  if (resource.id !== id) throw badRequest(`Resource id "${resource.id}" does not match the URL id "${id}"`, `${type}.id`);
  const exists = await tx.read(type, id);
  const current = await visible(tx, type, id, actor.principal);
  if (!current) {
    // Absent and invisible look the same: 404 (ids of this type are the server's to assign).
    if (!ctx.config.clientIdTypes.includes(type)) throw notFound(`${type}/${id} not found (create new ${type} resources with POST /${type})`);
    // An id held invisibly elsewhere cannot be taken over. Only deployments that let clients choose
    // ids of held types can see this answer; docs/security.md explains the trade-off.
    if (exists) throw conflict(`The id ${type}/${id} is not available`);
    assertAllowed(actor.principal, type, 'c');
  } else if (!current.deleted) {
    await assertMayChange(tx, current, actor.principal);
  }
  const expected = expectedVersion(type, id, current, ifMatch);
  const created = !current || current.deleted;
  const event: WriteEvent = { action: created ? 'create' : 'update', type, id, principal: actor.principal, previous: created ? undefined : current };
  const ruled = (await runBeforeRules(ctx, tx, { ...event, resource: { ...resource, id } }))!;
  const patient = await clientOf(ctx, tx, ruled, actor.principal);
  const toStore = type === 'Patient' ? await assignClientCode(tx, ruled as Patient & { id: string }, exists?.resource as Patient | undefined) : ruled;
  const version = await tx
    .put(toStore, { custodian: actor.principal.org, patient, ifMatchVersion: expected, method: 'PUT' })
    .catch(conflictToPrecondition);
  forgetClient(tx, type);
  if (created && type === 'Patient') await tx.enrol(id, actor.principal.org);
  await runAfterRules(ctx, tx, event, version);
  return { status: created ? 201 : 200, version, message: `${created ? 'Created' : 'Updated'} ${type}/${id}` };
}

/**
 * Conditional update (http://hl7.org/fhir/R4/http.html#cond-update), with If-Match checked against
 * the matched resource like an update by id; If-Match with no match is 412 (nothing to match).
 */
export async function conditionalUpdateIn(
  ctx: FhirContext, tx: StoreTx, type: string, query: QueryPairs, body: unknown, actor: WriteActor, ifMatch?: string,
): Promise<WriteResult> {
  const found = await findConditional(ctx, tx, type, query, actor.principal);
  if (found.length > 1) throw preconditionFailed('The conditional update criteria matched more than one resource');
  const bodyId = (body as { id?: unknown } | null)?.id;
  if (found.length === 0) {
    if (ifMatch !== undefined) throw preconditionFailed('If-Match was given but the conditional update criteria matched no resource');
    if (typeof bodyId === 'string') return updateIn(ctx, tx, type, bodyId, body, actor);
    return createIn(ctx, tx, type, body, actor);
  }
  const match = found[0]!;
  if (bodyId !== undefined && bodyId !== match.id) {
    throw badRequest(`Resource id "${String(bodyId)}" differs from the matched ${type}/${match.id}`, `${type}.id`);
  }
  return updateIn(ctx, tx, type, match.id, { ...(body as object), id: match.id }, actor, ifMatch);
}

/** JSON Patch (RFC 6902) on the current version (http://hl7.org/fhir/R4/http.html#patch). */
export async function patchIn(
  ctx: FhirContext, tx: StoreTx, type: string, id: string, patch: unknown, actor: WriteActor, ifMatch?: string,
): Promise<WriteResult> {
  assertWritableType(type);
  assertAllowed(actor.principal, type, 'u');
  const current = await visible(tx, type, id, actor.principal);
  if (!current || current.deleted || !current.resource) throw notFound(`${type}/${id} not found`);
  await assertMayChange(tx, current, actor.principal);
  if (ifMatch !== undefined && ifMatch !== ANY_VERSION && ifMatch !== current.versionId) {
    throw preconditionFailed(`Version mismatch on ${type}/${id}: current version is ${current.versionId}`);
  }
  const patched = applyJsonPatch(shownResource(ctx, current.resource), patch) as Resource;
  if (patched.resourceType !== type || patched.id !== id) throw unprocessable('A patch may not change resourceType or id', `${type}.id`);
  const resource = prepareResource(ctx, type, patched);
  const event: WriteEvent = { action: 'patch', type, id, principal: actor.principal, previous: current };
  const ruled = (await runBeforeRules(ctx, tx, { ...event, resource: { ...resource, id } }))!;
  const patient = await clientOf(ctx, tx, ruled, actor.principal);
  const toStore = type === 'Patient' ? await assignClientCode(tx, ruled as Patient & { id: string }, current.resource as Patient) : ruled;
  const version = await tx
    .put(toStore, { patient, ifMatchVersion: current.versionId, method: 'PATCH' })
    .catch(conflictToPrecondition);
  forgetClient(tx, type);
  await runAfterRules(ctx, tx, event, version);
  return { status: 200, version, message: `Patched ${type}/${id}` };
}

export interface DeleteResult {
  status: number;
  version?: StoredVersion;
  message: string;
}

/** delete by id (http://hl7.org/fhir/R4/http.html#delete): writes a deleted version. */
export async function deleteIn(ctx: FhirContext, tx: StoreTx, type: string, id: string, actor: WriteActor, ifMatch?: string): Promise<DeleteResult> {
  assertWritableType(type);
  assertAllowed(actor.principal, type, 'd');
  const current = await visible(tx, type, id, actor.principal);
  const expected = expectedVersion(type, id, current, ifMatch);
  if (!current || current.deleted) return { status: 200, message: `${type}/${id} did not exist or was already deleted` };
  await assertMayChange(tx, current, actor.principal);
  const event: WriteEvent = { action: 'delete', type, id, principal: actor.principal, previous: current };
  await runBeforeRules(ctx, tx, event);
  const version = await tx.remove(type, id, { ifMatchVersion: expected }).catch(conflictToPrecondition);
  forgetClient(tx, type);
  if (version) await runAfterRules(ctx, tx, event, version);
  return { status: 200, version, message: `Deleted ${type}/${id}` };
}

/** Conditional delete: single-match mode; several matches → 412; If-Match as for conditional update. */
export async function conditionalDeleteIn(ctx: FhirContext, tx: StoreTx, type: string, query: QueryPairs, actor: WriteActor, ifMatch?: string): Promise<DeleteResult> {
  assertWritableType(type);
  assertAllowed(actor.principal, type, 'd');
  const found = await findConditional(ctx, tx, type, query, actor.principal);
  if (found.length > 1) throw preconditionFailed('The conditional delete criteria matched more than one resource');
  if (!found.length) {
    if (ifMatch !== undefined) throw preconditionFailed('If-Match was given but the conditional delete criteria matched no resource');
    return { status: 200, message: 'No resource matched; nothing deleted' };
  }
  return deleteIn(ctx, tx, type, found[0]!.id, actor, ifMatch);
}
