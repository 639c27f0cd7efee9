/** Builders for referral tests: a client held by a community organisation, consent, ServiceRequest, Task. */
import type { Consent, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp } from '../helpers/app';
import { TREAT, privacyConsent, recipient } from '../helpers/consent';
import { REFERRAL_SERVICE_SYSTEM, TASK_CODE_SYSTEM } from '../../src/referrals/task';

export const COMMUNITY = 'community-org';
export const CLINIC = 'clinic-org';
export const OTHER = 'other-clinic';

export type Agent = ReturnType<TestApp['as']>;

/** POSTs a resource and returns the response. */
export function create(agent: Agent, body: Resource) {
  return agent.post(`/fhir/${body.resourceType}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
}

/** POSTs a resource, failing the test unless it is created. */
export async function created<T>(agent: Agent, body: Resource): Promise<T & { id: string }> {
  const res = await create(agent, body);
  if (res.status !== 201) throw new Error(`create ${body.resourceType} failed ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as T & { id: string };
}

/** PUTs a resource back, with optional If-Match. */
export function put(agent: Agent, body: Resource, ifMatch?: string) {
  const req = agent.put(`/fhir/${body.resourceType}/${body.id}`).set('Content-Type', FHIR_JSON);
  if (ifMatch) req.set('If-Match', `W/"${ifMatch}"`);
  return req.send(JSON.stringify(body));
}

/** The active consent of a client for a recipient organisation (IHE Privacy Consent shape). */
export function consentFor(patient: string, recipientOrg: string, status: Consent['status'] = 'active'): Consent {
  return privacyConsent(patient, { type: 'permit', actor: [recipient(recipientOrg)], purpose: [TREAT] }, { status, dateTime: '2025-01-01T00:00:00Z' });
}

/** A referral ServiceRequest for a service of the referral-service list. */
export function serviceRequest(patient: string, service: string): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    code: { coding: [{ system: REFERRAL_SERVICE_SYSTEM, code: service }] },
    subject: { reference: `Patient/${patient}` },
  };
}

/** A referral Task from the caller's organisation to `owner`. */
export function referralTask(patient: string, sr: string, owner: string, extra: Partial<Task> = {}): Task {
  return {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'fulfill' }] },
    focus: { reference: `ServiceRequest/${sr}` },
    for: { reference: `Patient/${patient}` },
    owner: { reference: `Organization/${owner}` },
    ...extra,
  };
}

/** A client of the community organisation who consented to referral to `recipients`. */
export async function consentingClient(outreach: Agent, recipients: string[]): Promise<string> {
  const patient = await created<{ id: string }>(outreach, { resourceType: 'Patient', gender: 'female' });
  for (const r of recipients) await created(outreach, consentFor(patient.id, r));
  return patient.id;
}

/** Issue diagnostics of an OperationOutcome body, joined. */
export function diagnostics(body: { issue?: { diagnostics?: string }[] }): string {
  return (body.issue ?? []).map((i) => i.diagnostics).join(' | ');
}
