/**
 * Errors as data for the pure decision functions: a decision either holds a value or the
 * OperationOutcome issues saying which input is wrong. Only the operations layer turns issues
 * into HTTP errors (see src/fhir/outcome.ts).
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../../fhir/outcome';

export type Decision<T> = { ok: true; value: T } | { ok: false; issues: OperationOutcomeIssue[] };

/** The FHIRPath of an input parameter, the same shape readInput uses for schema errors (http://hl7.org/fhir/R4/fhirpath.html). */
export function paramPath(name: string): string {
  return `Parameters.parameter.where(name = '${name}')`;
}

/** A successful decision (http://hl7.org/fhir/R4/operations.html). */
export function ok<T>(value: T): Decision<T> {
  return { ok: true, value };
}

/** Well-formed input that cannot happen in the real world: mapped to 422 (http://hl7.org/fhir/R4/operationoutcome.html). */
export function impossible(param: string, diagnostics: string): Decision<never> {
  return { ok: false, issues: [issue('business-rule', diagnostics, paramPath(param))] };
}

/** Input the schema could not catch (e.g. 30 February): mapped to 400 (http://hl7.org/fhir/R4/operationoutcome.html). */
export function malformed(param: string, diagnostics: string): Decision<never> {
  return { ok: false, issues: [issue('invalid', diagnostics, paramPath(param))] };
}
