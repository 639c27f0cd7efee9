/**
 * What makes a Task a referral, and typed access to its parts (http://hl7.org/fhir/R4/task.html,
 * closed-loop pattern of shared/domain.md): intent `order`, code `fulfill`, focus = the
 * ServiceRequest, `for` = the client, requester = the referring side, owner = the receiving
 * Organization.
 */
import type { CodeableConcept, Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../project-root';

/** R4 task-code CodeSystem (http://hl7.org/fhir/R4/codesystem-task-code.html). */
export const TASK_CODE_SYSTEM = 'http://hl7.org/fhir/CodeSystem/task-code';
/** The referral services (schemas/terminology/referral-service.codesystem.json). */
export const REFERRAL_SERVICE_SYSTEM = 'https://linkcare.example.org/fhir/CodeSystem/referral-service';
/**
 * When the exposure (e.g. the assault) happened, as an extension on the referral Task
 * (valueDateTime with time and zone); docs/referrals.md explains why it sits on the Task.
 */
export const EXPOSURE_EXTENSION = 'https://linkcare.example.org/fhir/StructureDefinition/exposure-date-time';

let serviceCodes: ReadonlySet<string> | undefined;

/** The codes of the referral-service CodeSystem, read once from schemas/terminology. */
export function referralServiceCodes(): ReadonlySet<string> {
  if (!serviceCodes) {
    const file = join(projectRoot(), 'schemas/terminology/referral-service.codesystem.json');
    const cs = JSON.parse(readFileSync(file, 'utf8')) as { concept: { code: string }[] };
    serviceCodes = new Set(cs.concept.map((c) => c.code));
  }
  return serviceCodes;
}

/** Whether a Task is a referral: code `fulfill` (system task-code or none). */
export function isReferral(task: Task | undefined): boolean {
  return !!task?.code?.coding?.some((c) => c.code === 'fulfill' && (c.system === undefined || c.system === TASK_CODE_SYSTEM));
}

/** The id in a relative reference `Type/id`, or undefined when it is not one. */
export function refId(ref: Reference | undefined, type: string): string | undefined {
  const m = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(ref?.reference ?? '');
  return m && m[1] === type ? m[2] : undefined;
}

/** The service a ServiceRequest asks for: its first code from the referral-service system. */
export function serviceOf(sr: ServiceRequest | undefined): string | undefined {
  return serviceCode(sr?.code);
}

/** The first referral-service code of a CodeableConcept. */
export function serviceCode(cc: CodeableConcept | undefined): string | undefined {
  return cc?.coding?.find((c) => c.system === REFERRAL_SERVICE_SYSTEM && c.code)?.code;
}

/** The deadline, `Task.restriction.period.end`. */
export function deadlineOf(task: Task): string | undefined {
  return task.restriction?.period?.end;
}

/** The exposure extension's value, when given. */
export function exposureOf(task: Task): string | undefined {
  return task.extension?.find((e) => e.url === EXPOSURE_EXTENSION)?.valueDateTime;
}
