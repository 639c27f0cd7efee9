/** The consent decision function: permit, deny exceptions, class and category, periods, several consents. */
import type { Consent, ConsentProvision, Observation } from '@medplum/fhirtypes';
import { type AccessQuestion, decideAccess } from '../../src/consent/decision';
import { sensitivityOf, withSensitivityLabels } from '../../src/consent/labels';

const NOW = new Date('2026-06-15T12:00:00Z');
const IRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] };
const to = (org: string) => ({ role: IRCP, reference: { reference: `Organization/${org}` } });
const label = (code: string) => ({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code });

function consent(id: string, provision: ConsentProvision, extra: Partial<Consent> = {}): Consent {
  return {
    resourceType: 'Consent',
    id,
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: 'Patient/p1' },
    provision,
    ...extra,
  };
}

function ask(over: Partial<AccessQuestion> = {}): AccessQuestion {
  return { patient: 'p1', custodian: 'clinic-a', recipientOrg: 'clinic-b', type: 'Observation', labels: [], now: NOW, ...over };
}

describe('one consent', () => {
  test('permit naming the recipient permits, and names the consent', () => {
    expect(decideAccess([consent('c1', { type: 'permit', actor: [to('clinic-b')] })], ask())).toEqual({ permit: true, consentId: 'c1' });
  });

  test('no consent: nothing is shared', () => {
    expect(decideAccess([], ask()).permit).toBe(false);
  });

  test('a permit naming another organisation does not permit', () => {
    expect(decideAccess([consent('c1', { type: 'permit', actor: [to('clinic-c')] })], ask()).permit).toBe(false);
  });

  test('a permit naming no recipient opens nothing (fails closed)', () => {
    expect(decideAccess([consent('c1', { type: 'permit' })], ask()).permit).toBe(false);
  });

  test('deny exception inside a permit: the HIV-labelled resource is denied, others permitted', () => {
    const c = consent('c1', { type: 'permit', actor: [to('clinic-b')], provision: [{ type: 'deny', securityLabel: [label('HIV')] }] });
    expect(decideAccess([c], ask({ labels: ['HIV'] })).permit).toBe(false);
    expect(decideAccess([c], ask({ labels: ['STD'] })).permit).toBe(true);
    expect(decideAccess([c], ask({ labels: [] })).permit).toBe(true);
  });

  test('class restricts to resource types', () => {
    const c = consent('c1', { type: 'permit', actor: [to('clinic-b')], class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Observation' }] });
    expect(decideAccess([c], ask({ type: 'Observation' })).permit).toBe(true);
    expect(decideAccess([c], ask({ type: 'Condition' })).permit).toBe(false);
  });

  test('category (code) restricts to labelled data', () => {
    const c = consent('c1', { type: 'permit', actor: [to('clinic-b')], code: [{ coding: [label('STD')] }] });
    expect(decideAccess([c], ask({ labels: ['STD'] })).permit).toBe(true);
    expect(decideAccess([c], ask({ labels: ['HIV'] })).permit).toBe(false);
  });

  test('purpose: a TREAT-only permit does not cover research', () => {
    const c = consent('c1', { type: 'permit', actor: [to('clinic-b')], purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] });
    expect(decideAccess([c], ask()).permit).toBe(true);
    expect(decideAccess([c], ask({ purpose: 'HRESCH' })).permit).toBe(false);
  });

  test('period: before start and after end the consent does not count; a date end covers its whole day', () => {
    const c = consent('c1', { type: 'permit', actor: [to('clinic-b')], period: { start: '2026-06-01', end: '2026-06-15' } });
    expect(decideAccess([c], ask({ now: new Date('2026-05-31T23:00:00Z') })).permit).toBe(false);
    expect(decideAccess([c], ask({ now: new Date('2026-06-15T23:59:00Z') })).permit).toBe(true);
    expect(decideAccess([c], ask({ now: new Date('2026-06-16T00:00:01Z') })).permit).toBe(false);
  });

  test('status inactive or rejected revokes', () => {
    for (const status of ['inactive', 'rejected', 'draft', 'entered-in-error'] as const) {
      expect(decideAccess([consent('c1', { type: 'permit', actor: [to('clinic-b')] }, { status })], ask()).permit).toBe(false);
    }
  });

  test('Consent.organization limits the custodians it governs', () => {
    const c = consent('c1', { type: 'permit', actor: [to('clinic-b')] }, { organization: [{ reference: 'Organization/clinic-a' }] });
    expect(decideAccess([c], ask({ custodian: 'clinic-a' })).permit).toBe(true);
    expect(decideAccess([c], ask({ custodian: 'outreach-x' })).permit).toBe(false);
  });

  test('a consent of another client never counts', () => {
    expect(decideAccess([consent('c1', { type: 'permit', actor: [to('clinic-b')] }, { patient: { reference: 'Patient/p2' } })], ask()).permit).toBe(false);
  });

  test('a deny base with a permit exception for the recipient and STI data', () => {
    const c = consent('c1', { type: 'deny', provision: [{ type: 'permit', actor: [to('clinic-b')], securityLabel: [label('STD')] }] });
    expect(decideAccess([c], ask({ labels: ['STD'] })).permit).toBe(true);
    expect(decideAccess([c], ask({ labels: ['HIV'] })).permit).toBe(false);
    expect(decideAccess([c], ask({ recipientOrg: 'clinic-c', labels: ['STD'] })).permit).toBe(false);
  });
});

describe('several consents', () => {
  test('deny wins over permit across consents', () => {
    const permit = consent('c1', { type: 'permit', actor: [to('clinic-b')] });
    const refusal = consent('c2', { type: 'deny', actor: [to('clinic-b')] });
    expect(decideAccess([permit, refusal], ask())).toEqual({ permit: false, consentId: 'c2' });
  });

  test('a refusal with no actor denies everyone', () => {
    const permit = consent('c1', { type: 'permit', actor: [to('clinic-b')] });
    const refusal = consent('c2', { type: 'deny' });
    expect(decideAccess([permit, refusal], ask()).permit).toBe(false);
  });

  test('an expired refusal no longer blocks a current permit', () => {
    const permit = consent('c1', { type: 'permit', actor: [to('clinic-b')] });
    const refusal = consent('c2', { type: 'deny', actor: [to('clinic-b')], period: { end: '2026-01-01T00:00:00Z' } });
    expect(decideAccess([permit, refusal], ask())).toEqual({ permit: true, consentId: 'c1' });
  });

  test('permits for different recipients do not mix', () => {
    const forB = consent('c1', { type: 'permit', actor: [to('clinic-b')] });
    const forC = consent('c2', { type: 'permit', actor: [to('clinic-c')] });
    expect(decideAccess([forB, forC], ask({ recipientOrg: 'clinic-c' }))).toEqual({ permit: true, consentId: 'c2' });
  });
});

describe('sensitivity labels', () => {
  test('labels sent by the client are kept and recognised', () => {
    const r = { resourceType: 'Observation' as const, status: 'final' as const, code: { text: 'x' }, meta: { security: [label('PSY')] } };
    expect(sensitivityOf(r)).toEqual(['PSY']);
    expect(withSensitivityLabels(r)).toBe(r);
  });

  test('the table derives labels from profiles and questionnaires', () => {
    const r: Observation = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, meta: { profile: ['https://linkcare.example.org/fhir/StructureDefinition/hiv-test-conclusion'] } };
    expect(withSensitivityLabels(r).meta?.security).toEqual([expect.objectContaining(label('HIV'))]);
    const qr = { resourceType: 'QuestionnaireResponse' as const, status: 'completed' as const, questionnaire: 'https://linkcare.example.org/fhir/Questionnaire/phq-9' };
    expect(sensitivityOf(qr)).toEqual(['PSY']);
  });
});
