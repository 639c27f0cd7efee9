/**
 * The one OperationOutcome builder. Handlers throw `OperationOutcomeError`; the error
 * middleware turns it into a response. See http://hl7.org/fhir/R4/operationoutcome.html
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];
export type IssueSeverity = OperationOutcomeIssue['severity'];

/** Builds one issue; `expression` is the FHIRPath of the offending element when known. */
export function issue(
  code: IssueCode,
  diagnostics: string,
  expression?: string | string[],
  severity: IssueSeverity = 'error',
): OperationOutcomeIssue {
  const out: OperationOutcomeIssue = { severity, code, diagnostics };
  if (expression !== undefined) out.expression = Array.isArray(expression) ? expression : [expression];
  return out;
}

/** Wraps issues in an OperationOutcome resource. */
export function outcome(...issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

/** The warnings of a lenient search about the parameters it ignored (http://hl7.org/fhir/R4/search.html#errors). */
export function ignoredParameters(names: readonly string[]): OperationOutcome {
  return outcome(...names.map((name) => issue('not-supported', `Search parameter "${name}" is not supported and was ignored`, name, 'warning')));
}

/** An informational outcome, e.g. for `Prefer: return=OperationOutcome`. */
export function informational(diagnostics: string): OperationOutcome {
  return outcome(issue('informational', diagnostics, undefined, 'information'));
}

/** An error carrying the HTTP status and the OperationOutcome to send. */
export class OperationOutcomeError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome,
    readonly headers: Record<string, string> = {},
  ) {
    super(outcome.issue?.[0]?.diagnostics ?? `HTTP ${status}`);
    this.name = 'OperationOutcomeError';
  }
}

function fail(status: number, code: IssueCode, diagnostics: string, expression?: string | string[]): OperationOutcomeError {
  return new OperationOutcomeError(status, outcome(issue(code, diagnostics, expression)));
}

/** 400: the request itself is malformed. */
export const badRequest = (msg: string, expression?: string | string[]): OperationOutcomeError =>
  fail(400, 'invalid', msg, expression);
/** 404: unknown resource, type or route; also what invisible resources look like. */
export const notFound = (msg: string): OperationOutcomeError => fail(404, 'not-found', msg);
/** 410: the resource existed and was deleted. */
export const gone = (msg: string): OperationOutcomeError => fail(410, 'deleted', msg);
/** 409: conflicting state (e.g. a version race that If-Match did not guard). */
export const conflict = (msg: string): OperationOutcomeError => fail(409, 'conflict', msg);
/** 412: If-Match or a conditional interaction's precondition failed. */
export const preconditionFailed = (msg: string): OperationOutcomeError => fail(412, 'conflict', msg);
/** 422: well-formed but breaks a business rule. */
export const unprocessable = (msg: string, expression?: string | string[]): OperationOutcomeError =>
  fail(422, 'business-rule', msg, expression);
/** 405: the interaction is not allowed here; `allow` lists the methods that are (RFC 9110 §15.5.6: the Allow header). */
export const notAllowed = (msg: string, allow?: readonly string[]): OperationOutcomeError =>
  allow ? new OperationOutcomeError(405, outcome(issue('not-supported', msg)), { Allow: allow.join(', ') }) : fail(405, 'not-supported', msg);
/** 501: known to FHIR but not implemented here. */
export const notImplemented = (msg: string): OperationOutcomeError => fail(501, 'not-supported', msg);
/** 403: authenticated but not permitted. */
export const forbidden = (msg: string): OperationOutcomeError => fail(403, 'forbidden', msg);

/** Builds an error from a list of validation issues (400 for schema problems). */
export function invalid(issues: OperationOutcomeIssue[], status = 400): OperationOutcomeError {
  return new OperationOutcomeError(status, outcome(...issues));
}

/** Maps an OperationOutcome error to the HTTP status it implies (used for batch entries). */
export function statusOf(err: unknown): number {
  return err instanceof OperationOutcomeError ? err.status : 500;
}
