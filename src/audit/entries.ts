/** Audit entries for the common interactions, so every handler records them the same way. */
import type { StoredVersion } from '../store/port';
import type { AuditAction, AuditEntry, AuditOutcome } from './events';
import type { Patient } from '@medplum/fhirtypes';
import { ID_PATTERN } from '../fhir/resource-types';
import { CLIENT_CODE_SYSTEM } from '../privacy/client-code';

/** The clients a set of stored resources is about. */
export function patientsOf(versions: StoredVersion[]): string[] {
  const ids = new Set<string>();
  for (const v of versions) {
    if (v.type === 'Patient') ids.add(v.id);
    else if (v.patient) ids.add(v.patient);
  }
  return [...ids];
}

/**
 * The clients the versions are about: by client code where a Patient among them carries it (no
 * need for the recorder to read that Patient again), else by Patient id for the recorder to name.
 */
function clientsOf(versions: StoredVersion[]): { patientIds: string[]; clientCodes?: string[] } {
  const codes = new Map<string, string>();
  for (const v of versions) {
    const code = v.type === 'Patient' ? (v.resource as Patient | undefined)?.identifier?.find((i) => i.system === CLIENT_CODE_SYSTEM)?.value : undefined;
    if (code) codes.set(v.id, code);
  }
  const patientIds = patientsOf(versions).filter((id) => !codes.has(id));
  return codes.size ? { patientIds, clientCodes: [...new Set(codes.values())] } : { patientIds };
}

/**
 * A successful access to one resource version. A Patient is named by its client code only,
 * never by reference: its id would outlive an erasure in the audit trail.
 */
export function instanceEntry(action: AuditAction, subtype: string, v: StoredVersion): AuditEntry {
  return { action, subtype, outcome: '0', ...(v.type === 'Patient' ? {} : { references: [`${v.type}/${v.id}`] }), ...clientsOf([v]) };
}

/** A successful search or history listing. */
export function queryEntry(subtype: string, types: string[], results: StoredVersion[]): AuditEntry {
  return { action: 'R', subtype, outcome: '0', query: { types, results: results.length }, ...clientsOf(results) };
}

/** What a failed request was trying to do, inferred from its method and path. */
export function failureEntry(method: string, path: string[], status: number, message: string): AuditEntry {
  const [a, b, c] = path;
  const op = path.find((s) => s.startsWith('$'));
  let action: AuditAction = method === 'POST' ? 'C' : method === 'PUT' || method === 'PATCH' ? 'U' : method === 'DELETE' ? 'D' : 'R';
  let subtype: string;
  if (op) {
    action = 'E';
    subtype = op;
  } else if (a === undefined) {
    action = method === 'POST' ? 'E' : 'R';
    subtype = method === 'POST' ? 'transaction' : 'search-system';
  } else if (b === undefined || b === '_search') {
    subtype = { GET: 'search-type', HEAD: 'search-type', POST: b ? 'search-type' : 'create', PUT: 'update', DELETE: 'delete', PATCH: 'patch' }[method] ?? 'read';
    if (b === '_search') action = 'R';
  } else if (b === '_history') subtype = 'history-type';
  else if (c === '_history') subtype = path[3] ? 'vread' : 'history-instance';
  else subtype = { GET: 'read', HEAD: 'read', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method] ?? 'read';
  const outcome: AuditOutcome = status >= 500 ? '8' : '4';
  // A refused request names no client: not by Patient id (see instanceEntry), not by code (the caller may not know it).
  const references = a && /^[A-Z][A-Za-z]{1,40}$/.test(a) && a !== 'Patient' && b && ID_PATTERN.test(b) ? [`${a}/${b}`] : undefined;
  return { action, subtype, outcome, outcomeDesc: `${status}: ${message}`.slice(0, 200), ...(references ? { references } : {}) };
}

/** The entry naming the consents that permitted the access (each once), as the consent issue requires. */
export function withConsents(entry: AuditEntry, consentIds: (string | undefined)[]): AuditEntry {
  const ids = [...new Set(consentIds.filter((c): c is string => !!c))];
  if (!ids.length) return entry;
  return { ...entry, consents: [...(entry.consents ?? []), ...ids] };
}
