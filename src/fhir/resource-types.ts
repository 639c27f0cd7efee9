/**
 * The resource types this server serves and what each allows.
 * See http://hl7.org/fhir/R4/http.html and the issue list in docs/api.md.
 */

/** Types clients may read and write through the REST API. */
export const WRITABLE_TYPES = [
  'Patient', 'Encounter', 'EpisodeOfCare', 'Observation', 'Condition', 'Procedure', 'DiagnosticReport',
  'Specimen', 'MedicationRequest', 'MedicationDispense', 'MedicationStatement', 'Medication',
  'Immunization', 'AllergyIntolerance', 'CarePlan', 'ServiceRequest', 'Task', 'Consent', 'Organization',
  'Location', 'HealthcareService', 'Practitioner', 'PractitionerRole', 'Questionnaire',
  'QuestionnaireResponse', 'SupplyDelivery', 'Communication', 'Flag', 'DocumentReference', 'Provenance',
  'Measure', 'MeasureReport', 'Group', 'Subscription', 'CodeSystem', 'ValueSet',
] as const;

/** Types the server writes itself; the API only reads them. */
export const READ_ONLY_TYPES = ['AuditEvent', 'SearchParameter', 'OperationDefinition'] as const;

export const SUPPORTED_TYPES: readonly string[] = [...WRITABLE_TYPES, ...READ_ONLY_TYPES].sort();

const supported = new Set<string>(SUPPORTED_TYPES);
const readOnly = new Set<string>(READ_ONLY_TYPES);

/** Directory types whose ids are commonly agreed between systems, so clients may choose them. */
export const DEFAULT_CLIENT_ID_TYPES = ['Organization', 'Location', 'HealthcareService', 'Practitioner', 'PractitionerRole'];

/** True when the type is served at all. */
export function isSupportedType(type: string): boolean {
  return supported.has(type);
}

/** True when only the server may write the type. */
export function isReadOnlyType(type: string): boolean {
  return readOnly.has(type);
}

/** FHIR logical id rule: http://hl7.org/fhir/R4/datatypes.html#id */
export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;
