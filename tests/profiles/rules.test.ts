/**
 * The profile write rules over HTTP beyond the examples: unknown project profiles, foreign
 * profiles, explained `contains` errors, project codes without a profile, updates, the viral load
 * interpretation and the questionnaire scores.
 */
import type { OperationOutcome, QuestionnaireResponse } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { createClient, example, postResource } from './helpers';

type Json = Record<string, any>;
const P = 'https://linkcare.example.org/fhir';
const ANSWER = `${P}/CodeSystem/mh-answer`;

let t: TestApp;
let client: string;
let man: string;
beforeAll(async () => {
  t = startTestApp();
  client = await createClient(t, 'female');
  man = await createClient(t, 'male');
});
afterAll(() => t.close());

const post = (r: Json) => postResource(t.http, r);
const expressions = (body: OperationOutcome): (string | undefined)[] => body.issue.map((i) => i.expression?.[0]);

describe('profile claims', () => {
  test('an unknown project profile is refused, naming meta.profile', async () => {
    const r = example<Json>('tb-screening', client);
    r.meta.profile = [`${P}/StructureDefinition/no-such-profile`];
    const res = await post(r);
    expect(res.status).toBe(422);
    expect(res.body.issue[0].code).toBe('not-supported');
    expect(expressions(res.body)).toEqual(['Observation.meta.profile[0]']);
  });

  test('profiles of other publishers are stored but not enforced', async () => {
    const r = { resourceType: 'Observation', meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] }, status: 'final', code: { text: 'note' }, subject: { reference: `Patient/${client}` } };
    const res = await post(r);
    expect(res.status).toBe(201);
    expect(res.body.meta.profile).toEqual(['http://hl7.org/fhir/StructureDefinition/vitalsigns']);
  });

  test('without a project profile the same content is not profile-checked', async () => {
    const r = example<Json>('sti-test', client);
    delete r.meta;
    delete r.bodySite;
    expect((await post(r)).status).toBe(201);
  });

  test('a missing required repetition is explained by what the profile asks for', async () => {
    const r = example<Json>('hiv-test-assay', client);
    r.component[0].code.coding[0].code = 'HIV.B.DE90';
    const res = await post(r);
    expect(res.status).toBe(422);
    const item = res.body.issue.find((i: Json) => i.expression?.[0] === 'Observation.component');
    expect(item.diagnostics).toContain('HIV.B.DE88');
    expect(item.diagnostics).toContain(`${P}/StructureDefinition/hiv-test-assay`);
  });

  test('a coding from the wrong system names the ValueSet it must come from', async () => {
    const r = example<Json>('contraception', client);
    r.valueCodeableConcept.coding[0].system = 'http://snomed.info/sct';
    const res = await post(r);
    expect(res.status).toBe(422);
    const item = res.body.issue.find((i: Json) => i.expression?.[0] === 'Observation.valueCodeableConcept.coding');
    expect(item.diagnostics).toContain(`${P}/ValueSet/contraceptive-method`);
  });

  test('updates are checked too', async () => {
    const created = await post(example('ppt-episode', client));
    const changed = { ...created.body, period: { start: '2025-03-01' } };
    const res = await t.http.put(`/fhir/EpisodeOfCare/${created.body.id as string}`).set('Content-Type', FHIR_JSON).send(changed);
    expect(res.status).toBe(422);
    expect(expressions(res.body)).toContain('EpisodeOfCare.period.end');
  });
});

describe('project codes', () => {
  test('a code its project CodeSystem does not define is refused, with or without a profile', async () => {
    const r = { resourceType: 'Observation', status: 'final', code: { text: 'test' }, subject: { reference: `Patient/${client}` }, valueCodeableConcept: { coding: [{ system: `${P}/CodeSystem/test-result`, code: 'positve' }] } };
    const res = await post(r);
    expect(res.status).toBe(422);
    expect(res.body.issue[0].code).toBe('code-invalid');
    expect(expressions(res.body)).toEqual(['Observation.valueCodeableConcept.coding[0].code']);
  });

  test('codes of other systems are not checked here', async () => {
    const r = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: 'anything' }] }, subject: { reference: `Patient/${client}` } };
    expect((await post(r)).status).toBe(201);
  });
});

describe('viral load interpretation', () => {
  test.each([[850, 'suppressed'], [1000, 'unsuppressed']])('%i copies/mL is %s', async (value, status) => {
    const r = example<Json>('viral-load', client);
    r.valueQuantity.value = value;
    r.interpretation = [{ coding: [{ system: `${P}/CodeSystem/viral-load-status`, code: 'suppressed' }] }, { text: 'kept' }];
    const res = await post(r);
    expect(res.status).toBe(201);
    const read = await t.http.get(`/fhir/Observation/${res.body.id as string}`);
    expect(read.body.interpretation).toEqual([{ text: 'kept' }, { coding: [expect.objectContaining({ system: `${P}/CodeSystem/viral-load-status`, code: status })] }]);
  });
});

describe('questionnaire scores', () => {
  const computed = (qr: QuestionnaireResponse) => ({
    total: qr.item?.find((i) => i.linkId === 'total-score')?.answer?.[0]?.valueInteger,
    severity: qr.item?.find((i) => i.linkId === 'severity')?.answer?.[0]?.valueCoding?.code,
  });
  const auditC = (patient: string, codes: string[]): Json => ({
    resourceType: 'QuestionnaireResponse', questionnaire: `${P}/Questionnaire/audit-c`, status: 'completed', subject: { reference: `Patient/${patient}` },
    item: codes.map((code, i) => ({ linkId: `auditc-${i + 1}`, answer: [{ valueCoding: { system: ANSWER, code } }] })),
  });

  test('the PHQ-9 example is scored 8, mild, and a client-sent score is replaced', async () => {
    const r = example<Json>('mental-health-screening', client);
    r.item.push({ linkId: 'total-score', answer: [{ valueInteger: 27 }] });
    const res = await post(r);
    expect(res.status).toBe(201);
    expect(computed(res.body)).toEqual({ total: 8, severity: 'mild' });
    expect(res.body.item.filter((i: Json) => i.linkId === 'total-score')).toHaveLength(1);
  });

  test('AUDIT-C total 3 is positive for a woman and negative for a man', async () => {
    const codes = ['drink-freq-2', 'drinks-1', 'heavy-0'];
    const woman = await post(auditC(client, codes));
    const manRes = await post(auditC(man, codes));
    expect(computed(woman.body)).toEqual({ total: 3, severity: 'screen-positive' });
    expect(computed(manRes.body)).toEqual({ total: 3, severity: 'screen-negative' });
  });

  test('a completed response must answer every question with one of its options', async () => {
    const r = example<Json>('mental-health-screening', client);
    r.item = r.item.slice(1);
    r.item[0].answer[0].valueCoding.code = 'heavy-1';
    const res = await post(r);
    expect(res.status).toBe(422);
    expect(expressions(res.body)).toEqual(expect.arrayContaining(['QuestionnaireResponse.item', 'QuestionnaireResponse.item[0].answer']));
  });

  test('a response in progress gets no score', async () => {
    const r = example<Json>('mental-health-screening', client);
    r.status = 'in-progress';
    delete r.meta;
    r.item = r.item.slice(0, 3);
    const res = await post(r);
    expect(res.status).toBe(201);
    expect(computed(res.body)).toEqual({ total: undefined, severity: undefined });
  });
});
