/**
 * Referrals of the synthetic programme: a ServiceRequest (what is asked) and the Task that carries
 * it between organisations (shared/domain.md "Referrals"), in any of the twelve Task states, with
 * the status reason the receiver must give when rejecting, failing or holding; and consents to
 * share with the receiving clinic (IHE Privacy Consent on FHIR shape).
 */
import type { Consent, ServiceRequest, Task } from '@medplum/fhirtypes';
import * as C from './codes';
import { type ClientBuilder, DAY_MS, at, cc, date, ref } from './fhir';

export type TaskStatus = Task['status'];

/** Every Task state, with how often a referral with no story of its own ends in it. */
export const TASK_STATES: readonly (readonly [TaskStatus, number])[] = [
  ['draft', 3], ['requested', 12], ['received', 6], ['accepted', 10], ['rejected', 5], ['ready', 4],
  ['cancelled', 5], ['in-progress', 10], ['on-hold', 4], ['failed', 4], ['completed', 35], ['entered-in-error', 2],
];

const REASON: Partial<Record<TaskStatus, string>> = {
  rejected: 'Service not offered at this site',
  failed: 'Client did not attend',
  'on-hold': 'Waiting for the client to choose a date',
};

/** A referral and its Task from `from` to `to`; returns the Task. */
export function referral(
  b: ClientBuilder,
  opts: { from: string; to: string; type: C.ReferralType; day: number; status: TaskStatus; urgent?: boolean; deadlineDays?: number },
): Task & { id: string } {
  const text = C.REFERRAL_TYPES[opts.type];
  const when = b.time(opts.day);
  const sr = b.add<ServiceRequest & { id: string }>({
    resourceType: 'ServiceRequest',
    id: b.id(),
    status: opts.status === 'completed' ? 'completed' : opts.status === 'entered-in-error' ? 'entered-in-error' : ['cancelled', 'rejected', 'failed'].includes(opts.status) ? 'revoked' : opts.status === 'draft' ? 'draft' : 'active',
    intent: 'order',
    priority: opts.urgent ? 'urgent' : 'routine',
    code: { coding: [{ system: C.REFERRAL_SYSTEM, code: opts.type, display: text }, C.PATIENT_REFERRAL], text },
    subject: ref('Patient', b.patient),
    authoredOn: when,
    requester: ref('Organization', opts.from),
    performer: [ref('Organization', opts.to)],
  }, opts.from);
  const reason = REASON[opts.status];
  // The requester creates the Task and holds it; the receiver moves it along (custody stays).
  return b.add<Task & { id: string }>({
    resourceType: 'Task',
    id: b.id(),
    status: opts.status,
    intent: 'order',
    priority: opts.urgent ? 'urgent' : 'routine',
    code: { coding: [{ system: C.TASK_CODE, code: 'fulfill' }] },
    description: text,
    focus: ref('ServiceRequest', sr.id),
    for: ref('Patient', b.patient),
    authoredOn: when,
    lastModified: at(Math.min(b.asOf, opts.day + b.rng.int(0, 5) * DAY_MS), 700),
    requester: ref('Organization', opts.from),
    owner: ref('Organization', opts.to),
    restriction: { period: { end: date(opts.day + (opts.deadlineDays ?? 14) * DAY_MS) } },
    ...(reason ? { statusReason: { text: reason } } : {}),
  }, opts.from);
}

/** A privacy consent of the client to share with `clinic`, active or revoked (SWIT 5.1, IHE Privacy Consent). */
export function consent(b: ClientBuilder, home: string, clinic: string, day: number, permit: boolean, revoked: boolean): void {
  const resource: Consent & { id: string } = {
    resourceType: 'Consent',
    id: b.id(),
    status: revoked ? 'inactive' : 'active',
    scope: cc({ system: C.CONSENT_SCOPE, code: 'patient-privacy' }),
    category: [cc(C.PRIVACY_CONSENT)],
    patient: ref('Patient', b.patient),
    dateTime: b.time(day),
    organization: [ref('Organization', home)],
    policyRule: cc({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: permit ? 'OPTIN' : 'OPTOUT' }),
    provision: {
      type: permit ? 'permit' : 'deny',
      period: { start: date(day), end: date(day + 365 * DAY_MS) },
      actor: [{ role: cc({ system: C.PARTICIPATION_TYPE, code: 'IRCP' }), reference: ref('Organization', clinic) }],
      purpose: [{ system: C.ACT_REASON, code: 'TREAT' }],
    },
  };
  b.add(resource, home);
}
