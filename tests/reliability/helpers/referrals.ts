/**
 * Referral set-up for the concurrency test, over a child server: a client of a community
 * organisation who consented to referral to a clinic, a ServiceRequest and a sent referral Task.
 * Shapes follow docs/referrals.md: Task intent order, code fulfill (R4 task-code), owner
 * Organization/<clinic>; the consent is IHE Privacy Consent shaped (src/consent).
 */
import type { Task } from '@medplum/fhirtypes';
import type { FhirClient } from './http';
import { REFERRAL_SERVICE_SYSTEM, TASK_CODE_SYSTEM } from '../../../src/referrals/task';
import { TREAT, privacyConsent, recipient } from '../../helpers/consent';

export const COMMUNITY = 'rel-community-org';
export const CLINIC = 'rel-clinic-org';

async function created(c: FhirClient, body: { resourceType: string }): Promise<string> {
  const res = await c.post(body.resourceType, body);
  if (res.status !== 201) throw new Error(`set-up: create ${body.resourceType} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** A client of COMMUNITY consenting to referral to CLINIC, and a ServiceRequest for STI treatment. */
export async function referralSetup(outreach: FhirClient): Promise<{ patient: string; sr: string }> {
  const patient = await created(outreach, { resourceType: 'Patient', gender: 'female' } as { resourceType: string });
  await created(outreach, {
    ...privacyConsent(patient, { type: 'permit', actor: [recipient(CLINIC)], purpose: [TREAT] }),
    dateTime: '2025-01-01T00:00:00Z',
  } as { resourceType: string });
  const sr = await created(outreach, {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    code: { coding: [{ system: REFERRAL_SERVICE_SYSTEM, code: 'sti-treatment' }] },
    subject: { reference: `Patient/${patient}` },
  } as { resourceType: string });
  return { patient, sr };
}

/** Sends a new referral of the set-up's client to CLINIC; returns the Task id. */
export async function sendReferral(outreach: FhirClient, s: { patient: string; sr: string }): Promise<string> {
  const task: Task = {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'fulfill' }] },
    focus: { reference: `ServiceRequest/${s.sr}` },
    for: { reference: `Patient/${s.patient}` },
    owner: { reference: `Organization/${CLINIC}` },
  };
  return created(outreach, task);
}

/** What entering a status needs: a reason (rejected, on-hold, failed) or an outcome (completed). */
export function needs(status: Task['status']): Partial<Task> {
  if (status === 'rejected' || status === 'on-hold' || status === 'failed') return { statusReason: { text: `reason for ${status}` } };
  if (status === 'completed') return { output: [{ type: { text: 'outcome' }, valueCodeableConcept: { text: 'treated' } }] };
  return {};
}
