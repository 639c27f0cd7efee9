/**
 * Every profile over HTTP: its example (fixtures/examples, also shown in docs/data-model.md) is
 * stored, and a variant that breaks the profile is refused with 422 and an issue whose
 * `expression` points at the offending element.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { type TestApp, startTestApp } from '../helpers/app';
import { createClient, example, exampleNames, postResource } from './helpers';

type Json = Record<string, any>;
const P = 'https://linkcare.example.org/fhir';

/** Per profile: how to break its example, and the expression the refusal must name. */
const BROKEN: Record<string, [(r: Json) => void, string]> = {
  'hiv-test-assay': [(r) => (r.component[0].valueCodeableConcept.coding[0].code = 'HIV.B.DE113'), 'Observation.component[0].valueCodeableConcept.coding[0].code'],
  'hiv-test-conclusion': [(r) => delete r.derivedFrom, 'Observation.derivedFrom'],
  'hiv-test-declined': [(r) => (r.valueString = 'negative'), 'Observation.valueString'],
  'hiv-diagnosis': [(r) => delete r.onsetDateTime, 'Condition.onsetDateTime'],
  'hiv-care-episode': [(r) => (r.period = { end: '2025-12-31' }), 'EpisodeOfCare.period.start'],
  'art-prescription': [(r) => (r.medicationCodeableConcept.coding[0].code = 'HIV.C.DE18'), 'MedicationRequest.medicationCodeableConcept.coding[0].code'],
  'art-statement': [(r) => (r.effectivePeriod = { end: '2025-01-01' }), 'MedicationStatement.effectivePeriod.start'],
  'viral-load': [(r) => (r.valueQuantity.code = 'mL'), 'Observation.valueQuantity.code'],
  'prep-prescription': [(r) => (r.dispenseRequest.expectedSupplyDuration.value = 0), 'MedicationRequest.dispenseRequest.expectedSupplyDuration.value'],
  'pep-prescription': [(r) => (r.reasonCode[0].coding[0].code = '1137457009'), 'MedicationRequest.reasonCode'],
  'pep-completion': [(r) => delete r.focus, 'Observation.focus'],
  'sti-syndrome': [(r) => (r.code.coding[0].system = 'http://snomed.info/sct'), 'Condition.code.coding'],
  'sti-test': [(r) => delete r.bodySite, 'Observation.bodySite'],
  'sti-treatment': [(r) => delete r.reasonCode, 'MedicationRequest.reasonCode'],
  'ppt-episode': [(r) => delete r.period.end, 'EpisodeOfCare.period.end'],
  'tb-screening': [(r) => (r.valueCodeableConcept.coding[0].code = '165815009'), 'Observation.valueCodeableConcept.coding[0].code'],
  'tb-diagnosis-referral': [(r) => delete r.authoredOn, 'ServiceRequest.authoredOn'],
  'tb-preventive-therapy': [(r) => (r.subject = { reference: 'Group/abc' }), 'MedicationRequest.subject.reference'],
  'hepatitis-test': [(r) => (r.valueCodeableConcept.coding[0].code = 'HIV.D.DE181'), 'Observation.valueCodeableConcept.coding[0].code'],
  'hbv-vaccination': [(r) => (r.protocolApplied[0] = { doseNumberString: 'first' }), 'Immunization.protocolApplied[0].doseNumberPositiveInt'],
  'post-rape-care': [(r) => delete r.meta.security, 'Observation.meta.security'],
  'harm-reduction-supply': [(r) => (r.suppliedItem.quantity.value = 0), 'SupplyDelivery.suppliedItem.quantity.value'],
  'ost-dispense': [(r) => (r.dosageInstruction[0].doseAndRate[0].doseQuantity.code = 'mL'), 'MedicationDispense.dosageInstruction[0].doseAndRate[0].doseQuantity.code'],
  contraception: [(r) => (r.valueCodeableConcept = { text: 'pill' }), 'Observation.valueCodeableConcept.coding'],
  'pregnancy-test': [(r) => (r.valueCodeableConcept.coding[0].code = 'reactive'), 'Observation.valueCodeableConcept.coding[0].code'],
  'cervical-screening': [(r) => delete r.method, 'Observation.method'],
  'mental-health-screening': [(r) => (r.questionnaire = `${P}/Questionnaire/other`), 'QuestionnaireResponse.questionnaire'],
};

let t: TestApp;
let client: string;
beforeAll(async () => {
  t = startTestApp();
  client = await createClient(t);
});
afterAll(() => t.close());

const post = (r: Json) => postResource(t.http, r);

test('every example fixture has a broken variant here, and every variant an example', () => {
  expect(Object.keys(BROKEN).sort()).toEqual(exampleNames());
});

describe.each(exampleNames())('profile %s', (name) => {
  test('its example is stored as sent', async () => {
    const res = await post(example(name, client));
    expect(res.status).toBe(201);
    expect(res.body.meta.profile).toEqual([`${P}/StructureDefinition/${name}`]);
  });

  test('a non-conforming variant is refused with 422 and an expression', async () => {
    const [breakIt, expression] = BROKEN[name]!;
    const r = example<Json>(name, client) as Json;
    breakIt(r);
    const res = await post(r);
    expect(res.status).toBe(422);
    const issues = (res.body as OperationOutcome).issue;
    expect(issues.map((i) => i.expression?.[0])).toContain(expression);
  });
});
