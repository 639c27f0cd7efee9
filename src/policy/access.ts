/**
 * The one access policy every path uses: type-level permission (role ∩ scope), instance
 * visibility (custody, enrolment; consent joins later), and the same rules as search predicates
 * so that searches, includes, chains, _has, history and counts never show more than a read would.
 * Invisible is indistinguishable from non-existent: callers answer 404, never 403, for instances.
 */
import type { Permission, Principal } from '../auth/principal';
import { scopeAllows } from '../auth/principal';
import { forbidden } from '../fhir/outcome';
import { SUPPORTED_TYPES } from '../fhir/resource-types';
import type { Task } from '@medplum/fhirtypes';
import type { ParamRef, Predicate, SearchPlan } from '../search/plan';
import { type ConsentGrants, consentDecision, consentGrants, holderLookup } from '../consent/lookup';
import { decideAccess } from '../consent/decision';
import { sensitivityOf } from '../consent/labels';
import type { StoreReader, StoredVersion } from '../store/port';
import { SHARED_CATEGORIES, categoryOf, rolesAllow } from './categories';

const TASK_OWNER: ParamRef = { base: 'Task', code: 'owner', type: 'reference' };
const TASK_FOCUS: ParamRef = { base: 'Task', code: 'focus', type: 'reference' };
const TASK_STATUS: ParamRef = { base: 'Task', code: 'status', type: 'token' };
const TASK_CODE: ParamRef = { base: 'Task', code: 'code', type: 'token' };
/** http://hl7.org/fhir/R4/codesystem-task-code.html (the system src/referrals/task.ts recognises). */
const TASK_CODE_SYSTEM = 'http://hl7.org/fhir/CodeSystem/task-code';

/** A draft has not been sent: its owner learns nothing from it yet (no consent was needed to draft it). */
const NOT_DRAFT: Predicate = { kind: 'not', inner: { kind: 'param', param: TASK_STATUS, values: [{ type: 'token', token: { code: 'draft' } }] } };
/**
 * A referral Task (code fulfill, system task-code or none, as src/referrals/task.ts isReferral):
 * only referrals open their ServiceRequest to the owner, because only for them the referral rule
 * checked that the focus is the requester's own. The client's Patient is never opened by a
 * referral itself: the owner sees it through the client's consent (which sending required) or
 * an enrolment, so a withdrawal takes effect at once.
 */
const REFERRAL: Predicate = {
  kind: 'param',
  param: TASK_CODE,
  values: [{ type: 'token', token: { system: TASK_CODE_SYSTEM, code: 'fulfill' } }, { type: 'token', token: { system: null, code: 'fulfill' } }],
};

const PERMISSION_WORDS: Record<Permission, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

/** Whether the principal may `permission` on resources of `type` at all (role ∩ scope). */
export function allows(principal: Principal, type: string, permission: Permission): boolean {
  return rolesAllow(principal.roles, type, permission) && scopeAllows(principal, type, permission);
}

/** Throws 403 unless the principal may `permission` on `type`. */
export function assertAllowed(principal: Principal, type: string, permission: Permission): void {
  if (!allows(principal, type, permission)) {
    throw forbidden(`Your role and scopes do not allow ${PERMISSION_WORDS[permission]} on ${type}`);
  }
}

/** Types the principal may read at all. */
export function readableTypes(principal: Principal): string[] {
  return SUPPORTED_TYPES.filter((t) => allows(principal, t, 'r') || allows(principal, t, 's'));
}

/**
 * The search predicate "visible to this principal", for every type at once: shared types as
 * such, Patients where the client is enrolled at the principal's organisation, everything else
 * only when held by it.
 */
export function visibility(principal: Principal): Predicate[] {
  return [{ kind: 'or', any: baseRules(principal) }];
}

/** Tasks owned by the principal's organisation (the receiving end of a referral), once sent. */
function ownedTasks(org: string): Predicate {
  return { kind: 'and', all: [{ kind: 'param', param: TASK_OWNER, values: [{ type: 'reference', ref: { targetType: 'Organization', id: org } }] }, NOT_DRAFT] };
}

/** Sent referral Tasks owned by the organisation: what opens a ServiceRequest and a client. */
function ownedReferrals(org: string): Predicate {
  return { kind: 'and', all: [ownedTasks(org), REFERRAL] };
}

function baseRules(principal: Principal): Predicate[] {
  const readable = readableTypes(principal);
  const shared = readable.filter((t) => SHARED_CATEGORIES.has(categoryOf(t)));
  const custodial = readable.filter((t) => !SHARED_CATEGORIES.has(categoryOf(t)) && t !== 'Patient');
  const any: Predicate[] = [];
  if (shared.length) any.push({ kind: 'type', types: shared });
  if (readable.includes('Patient')) any.push({ kind: 'enrolled', orgs: [principal.org] });
  if (custodial.length) any.push({ kind: 'and', all: [{ kind: 'type', types: custodial }, { kind: 'custodian', custodians: [principal.org] }] });
  if (readable.includes('Task')) {
    // The receiving organisation of a referral sees the Task and what it asks for (whom it is for:
    // through the client's consent, below).
    any.push({ kind: 'and', all: [{ kind: 'type', types: ['Task'] }, ownedTasks(principal.org)] });
    const referrals = ownedReferrals(principal.org);
    if (readable.includes('ServiceRequest')) any.push({ kind: 'and', all: [{ kind: 'type', types: ['ServiceRequest'] }, { kind: 'has', sourceType: 'Task', param: TASK_FOCUS, inner: referrals }] });
  }
  return any;
}

/** Visibility for one request, including what the clients' consents let the organisation see. */
export interface RequestVisibility {
  predicates: Predicate[];
  grants: ConsentGrants;
}

/** The access predicates of a request: the base rules plus consented data (loaded now: revocation is immediate). */
export async function requestVisibility(principal: Principal, store: StoreReader, purpose?: string): Promise<RequestVisibility> {
  const any = baseRules(principal);
  const grants = await consentGrants(store, principal.org, purpose);
  if (grants.predicate) {
    const readable = readableTypes(principal).filter((t) => !SHARED_CATEGORIES.has(categoryOf(t)));
    any.push({ kind: 'and', all: [{ kind: 'type', types: readable }, grants.predicate] });
  }
  return { predicates: [{ kind: 'or', any }], grants };
}

/** The consent that let the principal see a resource found by a search, if one did. */
export function consentFor(principal: Principal, v: StoredVersion, grants: ConsentGrants, purpose?: string): string | undefined {
  if (v.custodian === principal.org) return undefined;
  const patient = v.type === 'Patient' ? v.id : v.patient;
  const consents = patient && grants.byPatient.get(patient);
  if (!consents || !v.resource) return undefined;
  const decision = decideAccess(consents, {
    patient: patient!, custodian: v.custodian, recipientOrg: principal.org, type: v.type, labels: sensitivityOf(v.resource), purpose, now: new Date(),
  }, holderLookup(grants.holders));
  // A deny also names its consent: only a permit is an answer here.
  return decision.permit ? decision.consentId : undefined;
}

/** Why a resource is visible: `consentId` names the consent when that is what permitted it. */
export interface Visibility {
  visible: boolean;
  consentId?: string;
}

async function ownsTaskFor(store: StoreReader, org: string, param: ParamRef, target: StoredVersion): Promise<boolean> {
  const plan: SearchPlan = {
    types: ['Task'],
    where: [ownedReferrals(org), { kind: 'param', param, values: [{ type: 'reference', ref: { targetType: target.type, id: target.id } }] }],
    sort: [], count: 1, total: 'none',
  };
  return (await store.search(plan)).matches.length > 0;
}

/** The owner of a sent Task (undefined for a draft: not yet the owner's to see or change). */
function ownerOf(task: StoredVersion): string | undefined {
  const t = task.resource as Task | undefined;
  return t?.status === 'draft' ? undefined : t?.owner?.reference;
}

/** Whether, and why, the principal may see this stored resource (current or past version). */
export async function accessTo(principal: Principal, v: StoredVersion, store: StoreReader, purpose?: string): Promise<Visibility> {
  if (!allows(principal, v.type, 'r')) return { visible: false };
  if (SHARED_CATEGORIES.has(categoryOf(v.type))) return { visible: true };
  if (v.type === 'Patient' && (await store.enrolments(v.id)).includes(principal.org)) return { visible: true };
  if (v.type !== 'Patient' && v.custodian === principal.org) return { visible: true };
  if (v.type === 'Task' && ownerOf(v) === `Organization/${principal.org}`) return { visible: true };
  if (allows(principal, 'Task', 'r')) {
    if (v.type === 'ServiceRequest' && (await ownsTaskFor(store, principal.org, TASK_FOCUS, v))) return { visible: true };
  }
  const patient = v.type === 'Patient' ? v.id : v.patient;
  if (!patient || !v.resource) return { visible: false };
  const decision = await consentDecision(store, {
    patient, custodian: v.custodian, recipientOrg: principal.org, type: v.type, labels: sensitivityOf(v.resource), purpose, now: new Date(),
  });
  return decision.permit ? { visible: true, consentId: decision.consentId } : { visible: false };
}

/** Whether the principal may see this stored resource (current or past version). */
export async function canSee(principal: Principal, v: StoredVersion, store: StoreReader): Promise<boolean> {
  return (await accessTo(principal, v, store)).visible;
}

/**
 * Whether the principal may change this resource: its organisation holds it; for a client's
 * Patient, the client is enrolled there (the client record is shared by the enrolling
 * organisations); for a referral Task, the organisation owns it (src/referrals decides which
 * changes each party may make). Consent lets others read, never change.
 */
export async function mayChange(principal: Principal, v: StoredVersion, store: StoreReader): Promise<boolean> {
  if (v.type === 'Patient') return (await store.enrolments(v.id)).includes(principal.org);
  if (v.type === 'Task' && ownerOf(v) === `Organization/${principal.org}`) return true;
  return v.custodian === principal.org;
}
