/**
 * Where sensitivity labels come from (security review): a table code labels a resource wherever it
 * occurs — a reason, a value, evidence, an activity, an answer, an extension, a contained
 * resource — not only in `code`/`category`/`type`; and every referral service that names a
 * sensitive topic maps to its label. Unit cases over `sensitivityOf`; the HTTP scenario is in
 * referral-labels-http.test.ts.
 */
import type { Resource } from '@medplum/fhirtypes';
import { sensitivityOf, withSensitivityLabels } from '../../src/consent/labels';

const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const PROJECT = 'https://linkcare.example.org/fhir/CodeSystem';
const WHO_HIV = 'http://smart.who.int/hiv/CodeSystem/HIVConcepts';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/** HIV infection (SNOMED CT 86406008), as a CodeableConcept. */
const HIV_INFECTION = { coding: [{ system: SNOMED, code: '86406008', display: 'HIV infection' }] };
const HIV_POSITIVE = { coding: [{ system: WHO_HIV, code: 'HIV.B.DE112', display: 'HIV-positive' }] };
const neutral = (text: string) => ({ text });
const subject = { reference: 'Patient/p1' };

const as = (r: object) => r as Resource;

describe('a table code labels the resource wherever it occurs', () => {
  const cases: [string, Resource][] = [
    ['Encounter.reasonCode', as({ resourceType: 'Encounter', status: 'finished', class: { system: ACT_CODE, code: 'AMB' }, subject, reasonCode: [HIV_INFECTION] })],
    ['Encounter.serviceType', as({ resourceType: 'Encounter', status: 'finished', class: { system: ACT_CODE, code: 'FLD' }, subject, serviceType: { coding: [{ system: `${PROJECT}/referral-service`, code: 'art-initiation' }] } })],
    ['Encounter.diagnosis via a contained Condition', as({ resourceType: 'Encounter', status: 'finished', class: { system: ACT_CODE, code: 'AMB' }, subject, contained: [{ resourceType: 'Condition', id: 'd', subject, code: HIV_INFECTION }], diagnosis: [{ condition: { reference: '#d' } }] })],
    ['ServiceRequest.reasonCode', as({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject, code: neutral('follow-up'), reasonCode: [HIV_INFECTION] })],
    ['MedicationRequest.reasonCode', as({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject, medicationCodeableConcept: neutral('cotrimoxazole'), reasonCode: [HIV_INFECTION] })],
    ['MedicationStatement.reasonCode', as({ resourceType: 'MedicationStatement', status: 'active', subject, medicationCodeableConcept: neutral('cotrimoxazole'), reasonCode: [HIV_INFECTION] })],
    ['Procedure.reasonCode', as({ resourceType: 'Procedure', status: 'completed', subject, code: neutral('counselling'), reasonCode: [HIV_INFECTION] })],
    ['Immunization.reasonCode', as({ resourceType: 'Immunization', status: 'completed', patient: subject, occurrenceDateTime: '2026-01-01', vaccineCode: neutral('pneumococcal'), reasonCode: [HIV_INFECTION] })],
    ['Task.reasonCode', as({ resourceType: 'Task', status: 'requested', intent: 'order', for: subject, reasonCode: HIV_INFECTION })],
    ['Communication.reasonCode', as({ resourceType: 'Communication', status: 'completed', subject, reasonCode: [HIV_INFECTION] })],
    ['Observation.valueCodeableConcept', as({ resourceType: 'Observation', status: 'final', subject, code: neutral('result'), valueCodeableConcept: HIV_POSITIVE })],
    ['Observation.component.valueCodeableConcept', as({ resourceType: 'Observation', status: 'final', subject, code: neutral('panel'), component: [{ code: neutral('x'), valueCodeableConcept: HIV_POSITIVE }] })],
    ['Condition.evidence.code', as({ resourceType: 'Condition', subject, code: neutral('opportunistic infection'), evidence: [{ code: [HIV_INFECTION] }] })],
    ['CarePlan.activity.detail.code', as({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject, activity: [{ detail: { status: 'scheduled', code: { coding: [{ system: `${PROJECT}/referral-service`, code: 'prep' }] } } }] })],
    ['CarePlan.activity.detail.reasonCode', as({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject, activity: [{ detail: { status: 'scheduled', reasonCode: [HIV_INFECTION] } }] })],
    ['DiagnosticReport.conclusionCode', as({ resourceType: 'DiagnosticReport', status: 'final', subject, code: neutral('lab'), conclusionCode: [HIV_POSITIVE] })],
    ['Flag.code (a coding beside text)', as({ resourceType: 'Flag', status: 'active', subject, code: { coding: [{ system: LOINC, code: '23876-6' }], text: 'VL due' } })],
    ['QuestionnaireResponse answer valueCoding', as({ resourceType: 'QuestionnaireResponse', status: 'completed', subject, item: [{ linkId: 'a', item: [{ linkId: 'b', answer: [{ valueCoding: { system: WHO_HIV, code: 'HIV.B.DE112' } }] }] }] })],
    ['an extension valueCodeableConcept', as({ resourceType: 'Observation', status: 'final', subject, code: neutral('x'), extension: [{ url: 'https://example.org/reason', valueCodeableConcept: HIV_INFECTION }] })],
  ];
  test.each(cases)('%s', (_where, resource) => {
    expect(sensitivityOf(resource)).toEqual(['HIV']);
    expect(withSensitivityLabels(resource).meta?.security).toEqual([expect.objectContaining({ system: ACT_CODE, code: 'HIV' })]);
  });
});

describe('referral services that name a sensitive topic carry its label (ServiceRequest.code)', () => {
  const cases: [string, string][] = [
    ['hiv-testing', 'HIV'], ['art-initiation', 'HIV'], ['prep', 'HIV'], ['pep', 'HIV'],
    ['sti-treatment', 'STD'], ['mental-health', 'PSY'], ['violence-response', 'SDV'], ['ost', 'ETH'], ['nsp', 'ETH'],
  ];
  test.each(cases)('%s → %s', (code, label) => {
    const sr = as({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject, code: { coding: [{ system: `${PROJECT}/referral-service`, code }] } });
    expect(sensitivityOf(sr)).toEqual([label]);
  });

  test.each(['tb-diagnostics', 'hepatitis-testing', 'srh-contraception', 'legal-aid', 'shelter', 'peer-support'])('%s carries none', (code) => {
    const sr = as({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject, code: { coding: [{ system: `${PROJECT}/referral-service`, code }] } });
    expect(sensitivityOf(sr)).toEqual([]);
  });
});

describe('other topic codes', () => {
  test.each([
    ['an OST prescription (ost-medication)', 'ETH', as({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject, medicationCodeableConcept: { coding: [{ system: `${PROJECT}/ost-medication`, code: 'methadone' }] } })],
    ['a needle supply without its profile', 'ETH', as({ resourceType: 'SupplyDelivery', status: 'completed', patient: subject, suppliedItem: { itemCodeableConcept: { coding: [{ system: `${PROJECT}/commodity`, code: 'needle-syringe' }] } } })],
    ['an encounter for an STI syndrome', 'STD', as({ resourceType: 'Encounter', status: 'finished', class: { system: ACT_CODE, code: 'AMB' }, subject, reasonCode: [{ coding: [{ system: `${PROJECT}/sti-syndrome`, code: 'genital-ulcer' }] }] })],
    ['a viral-load status value', 'HIV', as({ resourceType: 'Observation', status: 'final', subject, code: neutral('x'), valueCodeableConcept: { coding: [{ system: `${PROJECT}/viral-load-status`, code: 'suppressed' }] } })],
  ] as [string, string, Resource][])('%s → %s', (_what, label, resource) => {
    expect(sensitivityOf(resource)).toEqual([label]);
  });
});

describe('what does not label', () => {
  test('meta (tags, security of other systems) is not content', () => {
    const r = as({ resourceType: 'Observation', status: 'final', subject, code: neutral('weight'), meta: { tag: [{ system: SNOMED, code: '86406008' }] } });
    expect(sensitivityOf(r)).toEqual([]);
  });

  test('everyday codings (language, encounter class, a UCUM quantity, a consent label) label nothing', () => {
    const patient = as({ resourceType: 'Patient', communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'sw' }] } }] });
    const enc = as({ resourceType: 'Encounter', status: 'finished', class: { system: ACT_CODE, code: 'FLD' }, subject, reasonCode: [neutral('outreach contact')] });
    const obs = as({ resourceType: 'Observation', status: 'final', subject, code: neutral('weight'), valueQuantity: { value: 60, system: 'http://unitsofmeasure.org', code: 'kg' } });
    const consent = as({ resourceType: 'Consent', status: 'active', patient: subject, provision: { type: 'deny', securityLabel: [{ system: ACT_CODE, code: 'HIV' }] } });
    for (const r of [patient, enc, obs, consent]) expect(sensitivityOf(r)).toEqual([]);
  });

  test('directory and definitional resources describe services, not a client: no label from their codes', () => {
    const service = as({ resourceType: 'HealthcareService', type: [{ coding: [{ system: `${PROJECT}/referral-service`, code: 'art-initiation' }] }] });
    const vs = as({ resourceType: 'ValueSet', status: 'active', expansion: { timestamp: '2026-01-01', contains: [{ system: SNOMED, code: '86406008' }] } });
    expect(sensitivityOf(service)).toEqual([]);
    expect(sensitivityOf(vs)).toEqual([]);
  });

  test('a very deeply nested resource is walked without exhausting the stack', () => {
    let item: Record<string, unknown> = { linkId: 'leaf', answer: [{ valueCoding: { system: WHO_HIV, code: 'HIV.B.DE112' } }] };
    for (let i = 0; i < 20_000; i++) item = { linkId: `l${i}`, item: [item] };
    expect(sensitivityOf(as({ resourceType: 'QuestionnaireResponse', status: 'completed', subject, item: [item] }))).toEqual(['HIV']);
  });
});

test('withSensitivityLabels adds inherited labels (a referral Task takes those of its ServiceRequest)', () => {
  const task = as({ resourceType: 'Task', status: 'requested', intent: 'order', for: subject, description: 'ART initiation' });
  expect(sensitivityOf(task)).toEqual([]);
  expect(withSensitivityLabels(task, ['HIV']).meta?.security).toEqual([expect.objectContaining({ system: ACT_CODE, code: 'HIV' })]);
});
