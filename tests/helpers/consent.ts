/** Shared pieces of consent tests: a privacy Consent body, the recipient actor, creating a resource. */
import type { Consent, ConsentProvision, Resource } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp } from './app';

/** Role "information recipient" (v3-ParticipationType IRCP), as IHE Privacy Consent names recipients. */
export const IRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] };

/** Purpose of use "treatment" (v3-ActReason TREAT). */
export const TREAT = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' };

/** A recipient actor for `org`. */
export function recipient(org: string): NonNullable<ConsentProvision['actor']>[number] {
  return { role: IRCP, reference: { reference: `Organization/${org}` } };
}

/** An active patient-privacy Consent of `patient` with `provision`. */
export function privacyConsent(patient: string, provision: ConsentProvision, extra: Partial<Consent> = {}): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patient}` },
    provision,
    ...extra,
  };
}

/** POSTs a resource and returns it as created; any other status fails the test with the outcome. */
export async function createdBy(agent: ReturnType<TestApp['as']>, body: object): Promise<Resource & { id: string }> {
  const res = await agent.post(`/fhir/${(body as Resource).resourceType}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
  if (res.status !== 201) throw new Error(`create failed ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The common consent: everything for `org`, except HIV information (a nested deny by label). */
export function allButHivConsent(patient: string, org: string): Consent {
  return privacyConsent(patient, {
    type: 'permit',
    actor: [recipient(org)],
    provision: [{ type: 'deny', securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' }] }],
  });
}
