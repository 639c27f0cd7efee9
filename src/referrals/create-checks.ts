/**
 * Checks and completions of a new referral Task, made by the requesting organisation: who it is
 * for, what it asks for (a ServiceRequest of the same client coded from the referral-service
 * list), whom it goes to, and the client's consent to share with that organisation once sent.
 */
import type { ServiceRequest, Task } from '@medplum/fhirtypes';
import type { Principal } from '../auth/principal';
import { unprocessable } from '../fhir/outcome';
import type { StoreReader } from '../store/port';
import { referralConsent } from '../consent/lookup';
import { REFERRAL_SERVICE_SYSTEM, refId, referralServiceCodes, serviceOf } from './task';

const REQUESTER_TYPES = ['Organization', 'Practitioner', 'PractitionerRole'];

/** Task.for as a Patient id, or 422 (a referral is always about one client). */
export function patientIdOf(task: Task): string {
  const id = refId(task.for, 'Patient');
  if (!id) throw unprocessable('A referral needs Task.for = Patient/<id> (the client)', 'Task.for');
  return id;
}

/** Task.owner as an Organization id, or 422 (the receiving organisation). */
export function ownerOrgOf(task: Task): string {
  const id = refId(task.owner, 'Organization');
  if (!id) throw unprocessable('A referral needs Task.owner = Organization/<id> (the receiving organisation)', 'Task.owner');
  return id;
}

/**
 * The requester: absent → the caller's organisation; an Organization must be the caller's own
 * (nobody refers on another organisation's behalf); a Practitioner(Role) is the referring user.
 */
export function completeRequester(task: Task, principal: Principal): Task {
  if (!task.requester) return { ...task, requester: { reference: `Organization/${principal.org}` } };
  const m = /^([A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}$/.exec(task.requester.reference ?? '');
  if (!m || !REQUESTER_TYPES.includes(m[1]!)) {
    throw unprocessable('Task.requester must reference an Organization, Practitioner or PractitionerRole', 'Task.requester');
  }
  if (m[1] === 'Organization' && refId(task.requester, 'Organization') !== principal.org) {
    throw unprocessable(`Task.requester must be your own organisation (Organization/${principal.org})`, 'Task.requester');
  }
  return task;
}

/**
 * The focus: a ServiceRequest held by the caller's organisation (it may be created earlier in the
 * same transaction), about the same client, asking for a service of the referral-service list.
 */
export async function checkFocus(reader: StoreReader, task: Task, patientId: string, principal: Principal): Promise<ServiceRequest> {
  const id = refId(task.focus, 'ServiceRequest');
  if (!id) throw unprocessable('A referral needs Task.focus = ServiceRequest/<id> (what is requested)', 'Task.focus');
  const v = await reader.read('ServiceRequest', id);
  // Someone else's ServiceRequest looks absent: its existence is not the caller's to learn.
  if (!v || v.deleted || !v.resource || v.custodian !== principal.org) throw unprocessable(`ServiceRequest/${id} not found`, 'Task.focus');
  const sr = v.resource as ServiceRequest;
  if (sr.subject?.reference !== `Patient/${patientId}`) {
    throw unprocessable(`ServiceRequest/${id} is about another subject than Task.for`, 'Task.focus');
  }
  const service = serviceOf(sr);
  if (!service || !referralServiceCodes().has(service)) {
    throw unprocessable(`ServiceRequest/${id} must be coded from ${REFERRAL_SERVICE_SYSTEM}`, 'Task.focus');
  }
  return sr;
}

/**
 * Refuses (422) sending a referral to another organisation without an active consent of the
 * client that permits it (issue #6); the consent may be written earlier in the same transaction.
 */
export async function checkConsent(reader: StoreReader, patientId: string, ownerOrg: string, requesterOrg: string): Promise<void> {
  // A referral inside one organisation shares nothing the organisation does not hold already.
  if (ownerOrg === requesterOrg) return;
  const consent = await referralConsent(reader, patientId, ownerOrg, new Date());
  if (!consent) {
    throw unprocessable(
      `No active Consent of Patient/${patientId} permits Organization/${ownerOrg} to receive this referral (purpose TREAT): record the client's consent first (it may be in the same transaction Bundle)`,
      'Task.owner',
    );
  }
}
