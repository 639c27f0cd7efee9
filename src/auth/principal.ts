/**
 * Who is calling: the verified token's subject, organisation, roles and SMART scopes.
 * Scopes follow SMART App Launch v2 (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html),
 * with v1 `.read`/`.write`/`.*` accepted.
 */

export const ROLES = ['clinician', 'outreach', 'reporting', 'admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** SMART v2 permission letters: create, read, update, delete, search. */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

export interface Scope {
  /** A resource type, or '*'. */
  type: string;
  permissions: Set<Permission>;
}

export interface Principal {
  sub: string;
  /** Logical id of the Organization the user acts for. */
  org: string;
  roles: Role[];
  /** undefined = the token carries no scope claim: the roles alone decide. */
  scopes?: Scope[];
}

const V1: Record<string, Permission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };

/** Parses one scope string; returns undefined for scopes that grant no resource access (openid, launch…). */
export function parseScope(s: string): Scope | undefined {
  const m = /^(user|system)\/([A-Z][A-Za-z]+|\*)\.([a-z*]+)(\?.*)?$/.exec(s);
  if (!m) return undefined;
  const [, , type, perms] = m as unknown as [string, string, string, string];
  if (V1[perms]) return { type, permissions: new Set(V1[perms]) };
  if (!/^c?r?u?d?s?$/.test(perms)) return undefined;
  return { type, permissions: new Set(perms.split('') as Permission[]) };
}

/** Parses the `scope` claim (space-separated string or array). */
export function parseScopes(claim: unknown): Scope[] | undefined {
  if (claim === undefined) return undefined;
  const list = Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/\s+/) : [];
  return list.filter((s): s is string => typeof s === 'string').map(parseScope).filter((s): s is Scope => !!s);
}

/** Whether the scopes (when present) allow `permission` on `type`. */
export function scopeAllows(principal: Principal, type: string, permission: Permission): boolean {
  if (!principal.scopes) return true;
  return principal.scopes.some((s) => (s.type === '*' || s.type === type) && s.permissions.has(permission));
}
