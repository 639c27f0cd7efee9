/**
 * Business rules every stored resource must meet beyond the JSON Schema (422): the PII guard on
 * Patient and RelatedPerson (http://hl7.org/fhir/R4/patient.html; SWIT 5.1 confidentiality).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { FhirContext } from './context';
import { invalid } from './outcome';
import { piiIssues } from '../privacy/pii-guard';

/** Throws 422 listing every rule the resource breaks. */
export function guardResource(ctx: FhirContext, resource: Resource): void {
  const issues = piiIssues(resource, { allowBirthMonth: ctx.config.birthDatePrecision === 'month' });
  if (issues.length) throw invalid(issues, 422);
}
