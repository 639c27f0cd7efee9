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
import type { Predicate } from '../search/plan';
import type { StoreReader, StoredVersion } from '../store/port';
import { SHARED_CATEGORIES, categoryOf, rolesAllow } from './categories';

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
  const readable = readableTypes(principal);
  const shared = readable.filter((t) => SHARED_CATEGORIES.has(categoryOf(t)));
  const custodial = readable.filter((t) => !SHARED_CATEGORIES.has(categoryOf(t)) && t !== 'Patient');
  const any: Predicate[] = [];
  if (shared.length) any.push({ kind: 'type', types: shared });
  if (readable.includes('Patient')) any.push({ kind: 'enrolled', orgs: [principal.org] });
  if (custodial.length) any.push({ kind: 'and', all: [{ kind: 'type', types: custodial }, { kind: 'custodian', custodians: [principal.org] }] });
  return [{ kind: 'or', any }];
}

/** Whether the principal may see this stored resource (current or past version). */
export async function canSee(principal: Principal, v: StoredVersion, store: StoreReader): Promise<boolean> {
  if (!allows(principal, v.type, 'r')) return false;
  const category = categoryOf(v.type);
  if (SHARED_CATEGORIES.has(category)) return true;
  if (v.type === 'Patient') return (await store.enrolments(v.id)).includes(principal.org);
  return v.custodian === principal.org;
}

/**
 * Whether the principal may change this resource: its organisation holds it, or, for a client's
 * Patient, the client is enrolled there (the client record is shared by the enrolling organisations).
 */
export async function mayChange(principal: Principal, v: StoredVersion, store: StoreReader): Promise<boolean> {
  if (v.type === 'Patient') return (await store.enrolments(v.id)).includes(principal.org);
  return v.custodian === principal.org;
}
