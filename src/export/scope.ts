/**
 * What an export covers: its mode (from the caller's roles), its types, and the predicates each
 * page carries — the access policy's visibility, the level's compartment restriction, `_since`
 * and the transaction time (https://hl7.org/fhir/uv/bulkdata/export.html#query-parameters).
 */
import { type Principal, scopeAllows } from '../auth/principal';
import { readableTypes, visibility } from '../policy/access';
import { badRequest, forbidden } from '../fhir/outcome';
import { isSupportedType } from '../fhir/resource-types';
import type { ParamPredicate, Predicate } from '../search/plan';
import { parseDateRange } from '../search/ranges';
import { compartmentTypes, inPatientCompartment } from '../search/compartment';
import type { SearchRegistry } from '../search/registry';
import type { ExportLevel, ExportMode, ExportRequest } from './job';
import { RELEASE_TYPES } from './deidentify';

/** Types served from code, not stored: nothing to export. */
// AuditEvents are read by auditors through search, never exported (docs/export.md): the embedded
// store keeps them apart from the resource tables an export reads.
const NOT_EXPORTED: ReadonlySet<string> = new Set(['SearchParameter', 'OperationDefinition', 'AuditEvent']);

/**
 * Identified for clinicians and admins (their organisation's data, exactly as the access policy
 * shows it); de-identified for the reporting role (the release set of every organisation, since
 * record-level data for indicators is the deployment's release to its reporting users).
 */
export function exportMode(principal: Principal): ExportMode {
  if (principal.roles.includes('clinician') || principal.roles.includes('admin')) return 'identified';
  if (principal.roles.includes('reporting')) return 'deidentified';
  throw forbidden('Bulk export is open to clinicians and admins (their organisation\'s data) and to reporting (de-identified)');
}

/** The access predicates of every page: the policy's visibility, or the release set across organisations. */
export function exportVisibility(principal: Principal, mode: ExportMode): Predicate[] {
  return mode === 'identified' ? visibility(principal) : [{ kind: 'type', types: [...RELEASE_TYPES] }];
}

/** Types in a client's compartment, the Patient first. */
function compartmentScope(): string[] {
  return ['Patient', ...compartmentTypes()];
}

/** The types to export: `_type` checked against the mode and level, or everything the caller may export. */
export function exportTypes(principal: Principal, mode: ExportMode, level: ExportLevel, requested: string[] | undefined): string[] {
  // De-identified exports are the reporting role's by design, but a SMART scope still narrows them
  // (roles ∩ scopes, docs/security.md): a token scoped to aggregates gets no record-level data.
  const released = [...RELEASE_TYPES].filter((t) => scopeAllows(principal, t, 'r'));
  const allowed = (mode === 'identified' ? readableTypes(principal) : released).filter((t) => !NOT_EXPORTED.has(t));
  const inLevel = level === 'system' ? undefined : new Set(compartmentScope());
  if (!requested) {
    const types = allowed.filter((t) => !inLevel || inLevel.has(t)).sort();
    if (!types.length) throw forbidden('Your scopes allow no resource type to be exported');
    return types;
  }
  for (const t of requested) {
    if (!isSupportedType(t)) throw badRequest(`_type names an unsupported type "${t}"`, '_type');
    if (!allowed.includes(t)) throw forbidden(`${t} cannot be exported with your role${mode === 'deidentified' ? ' (de-identified exports leave it out)' : ''}`);
    if (inLevel && !inLevel.has(t)) throw badRequest(`${t} is not in the Patient compartment`, '_type');
  }
  return [...new Set(requested)];
}

/** Parses `_since`: a FHIR instant (with seconds and a zone). */
export function parseSince(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value) || !parseDateRange(value)) {
    throw badRequest('_since must be a FHIR instant, e.g. 2024-01-31T00:00:00Z', '_since');
  }
  return value;
}

/** The compartment parameters of `type` (as reference predicates to be filled in). */
function compartmentParams(registry: SearchRegistry, type: string): ParamPredicate[] {
  const probe = inPatientCompartment(registry, type, 'x');
  if (!probe) return [];
  const list = probe.kind === 'or' ? probe.any : [probe];
  return list.filter((p): p is ParamPredicate => p.kind === 'param');
}

/**
 * The level's restriction for one type: none (system), "in some visible client's compartment"
 * (patient), or "in one of these clients' compartments" (group chunk). undefined = the type has
 * nothing at this level.
 */
export function levelWhere(registry: SearchRegistry, level: ExportLevel, type: string, patients?: string[]): Predicate[] | undefined {
  if (level === 'system') return [];
  if (level === 'patient') {
    if (type === 'Patient') return [];
    const params = compartmentParams(registry, type);
    if (!params.length) return undefined;
    // A chain to any Patient: the chain target carries the visibility, so only visible clients count.
    const any: Predicate[] = params.map((p) => ({ kind: 'chain', param: p.param, targetType: 'Patient', inner: { kind: 'type', types: ['Patient'] } }));
    return [any.length === 1 ? any[0]! : { kind: 'or', any }];
  }
  const ids = patients ?? [];
  if (!ids.length) return undefined;
  if (type === 'Patient') return [{ kind: 'id', ids }];
  const params = compartmentParams(registry, type);
  if (!params.length) return undefined;
  const any: Predicate[] = params.map((p) => ({ ...p, values: ids.map((id) => ({ type: 'reference' as const, ref: { targetType: 'Patient', id } })) }));
  return [any.length === 1 ? any[0]! : { kind: 'or', any }];
}

/** The time window of every page: changed after `_since`, and not after the transaction time. */
export function timeWhere(request: Pick<ExportRequest, 'since' | 'transactionTime'>): Predicate[] {
  const out: Predicate[] = [{ kind: 'lastUpdated', prefix: 'le', range: parseDateRange(request.transactionTime)! }];
  if (request.since) out.push({ kind: 'lastUpdated', prefix: 'gt', range: parseDateRange(request.since)! });
  return out;
}
