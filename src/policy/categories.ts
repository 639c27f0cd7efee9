/**
 * Kinds of data and which role may do what with each. This table is the access matrix of
 * docs/security.md; tests/security/access-matrix.test.ts checks every cell.
 */
import type { Permission, Role } from '../auth/principal';

export type Category = 'directory' | 'knowledge' | 'client' | 'outreach' | 'referral' | 'clinical' | 'aggregate' | 'audit';

const CATEGORY_OF: Record<string, Category> = {
  Organization: 'directory',
  Location: 'directory',
  HealthcareService: 'directory',
  Practitioner: 'directory',
  PractitionerRole: 'directory',
  Questionnaire: 'knowledge',
  Measure: 'knowledge',
  CodeSystem: 'knowledge',
  ValueSet: 'knowledge',
  Medication: 'knowledge',
  SearchParameter: 'knowledge',
  OperationDefinition: 'knowledge',
  Patient: 'client',
  // Outreach contacts and commodity distribution.
  Encounter: 'outreach',
  SupplyDelivery: 'outreach',
  // The referral loop, and the notifications that follow it.
  ServiceRequest: 'referral',
  Task: 'referral',
  Consent: 'referral',
  Provenance: 'referral',
  Subscription: 'referral',
  // Laboratory results, diagnoses, medicines, mental health, cohorts.
  Observation: 'clinical',
  Condition: 'clinical',
  Procedure: 'clinical',
  DiagnosticReport: 'clinical',
  Specimen: 'clinical',
  MedicationRequest: 'clinical',
  MedicationDispense: 'clinical',
  MedicationStatement: 'clinical',
  Immunization: 'clinical',
  AllergyIntolerance: 'clinical',
  CarePlan: 'clinical',
  EpisodeOfCare: 'clinical',
  QuestionnaireResponse: 'clinical',
  DocumentReference: 'clinical',
  Flag: 'clinical',
  Communication: 'clinical',
  Group: 'clinical',
  MeasureReport: 'aggregate',
  AuditEvent: 'audit',
};

/** The category of a resource type (unknown types are treated as clinical: the strictest). */
export function categoryOf(type: string): Category {
  return CATEGORY_OF[type] ?? 'clinical';
}

/** Categories whose resources are shared by every organisation (no custody). */
export const SHARED_CATEGORIES: ReadonlySet<Category> = new Set(['directory', 'knowledge']);

const ALL: Permission[] = ['c', 'r', 'u', 'd', 's'];
const READ: Permission[] = ['r', 's'];

/** What each role may do with each category (no entry = nothing). */
export const ROLE_MATRIX: Record<Role, Partial<Record<Category, Permission[]>>> = {
  clinician: { directory: READ, knowledge: READ, client: ['c', 'r', 'u', 's'], outreach: ALL, referral: ALL, clinical: ALL, aggregate: READ },
  outreach: { directory: READ, knowledge: READ, client: ['c', 'r', 'u', 's'], outreach: ALL, referral: ALL },
  reporting: { directory: READ, knowledge: READ, aggregate: READ },
  admin: { directory: ALL, knowledge: ALL, client: READ, aggregate: READ },
  auditor: { directory: READ, audit: READ },
};

/** Whether any of the roles grants `permission` on `type`. */
export function rolesAllow(roles: readonly Role[], type: string, permission: Permission): boolean {
  const category = categoryOf(type);
  return roles.some((r) => ROLE_MATRIX[r][category]?.includes(permission) ?? false);
}
