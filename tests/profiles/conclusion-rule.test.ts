/**
 * The conclusion rule of the hiv-test-conclusion profile over HTTP: a conclusion its recorded
 * assays contradict under the WHO strategy (DAK HIV.B7.DT) is refused with 422; HIV-positive only
 * after A1+, A2+, A3+ (HIV.B7.DT.08). Assays the writer cannot see, or that are not on record,
 * are never held against it, and a refusal never shows another organisation's result.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { createClient, example, postResource } from './helpers';

type Json = Record<string, any>;
type Step = 'HIV.B.DE90' | 'HIV.B.DE91' | 'HIV.B.DE92' | 'HIV.B.DE93';
const A1: Step = 'HIV.B.DE90';
const A2: Step = 'HIV.B.DE91';
const A3: Step = 'HIV.B.DE92';
const VALUE = { positive: 'HIV.B.DE112', negative: 'HIV.B.DE113', inconclusive: 'HIV.B.DE114' };

let t: TestApp;
let client: string;
beforeAll(async () => {
  t = startTestApp();
  client = await createClient(t);
});
afterAll(() => t.close());

const post = (r: Json, agent = t.http) => postResource(agent, r);

/** Writes one assay (the profile's example with its number and result changed); returns its id. */
async function assay(step: Step, result: 'reactive' | 'non-reactive', patient = client, agent = t.http): Promise<string> {
  const r = example<Json>('hiv-test-assay', patient);
  r.component[0].valueCodeableConcept.coding[0] = { system: 'http://smart.who.int/hiv/CodeSystem/HIVConcepts', code: step };
  r.valueCodeableConcept.coding[0] = { system: 'https://linkcare.example.org/fhir/CodeSystem/test-result', code: result };
  const res = await post(r, agent);
  expect(res.status).toBe(201);
  return res.body.id as string;
}

function conclusion(result: keyof typeof VALUE, assays: string[], patient = client): Json {
  const r = example<Json>('hiv-test-conclusion', patient);
  r.valueCodeableConcept.coding[0] = { system: 'http://smart.who.int/hiv/CodeSystem/HIVConcepts', code: VALUE[result] };
  r.derivedFrom = assays.map((id) => ({ reference: `Observation/${id}` }));
  return r;
}

async function refused(r: Json, ...texts: string[]): Promise<void> {
  const res = await post(r);
  expect(res.status).toBe(422);
  const issue = (res.body as OperationOutcome).issue[0]!;
  expect(issue).toMatchObject({ code: 'business-rule', expression: ['Observation.valueCodeableConcept'] });
  for (const text of texts) expect(issue.diagnostics).toContain(text);
}

test('HIV-positive after a single reactive A1 is refused: the next assay is A2 (HIV.B7.DT.02)', async () => {
  await refused(conclusion('positive', [await assay(A1, 'reactive')]), 'A2', 'HIV.B7.DT.02', 'HIV.B7.DT.08');
});

test('HIV-positive after A1+, A2+ is refused: the next assay is A3 (HIV.B7.DT.04)', async () => {
  await refused(conclusion('positive', [await assay(A1, 'reactive'), await assay(A2, 'reactive')]), 'A3', 'HIV.B7.DT.04');
});

test('HIV-positive after A1+, A2+, A3− is refused: the assays conclude inconclusive (HIV.B7.DT.07)', async () => {
  await refused(conclusion('positive', [await assay(A1, 'reactive'), await assay(A2, 'reactive'), await assay(A3, 'non-reactive')]), 'HIV-inconclusive', 'HIV.B7.DT.07');
});

test('HIV-negative after a reactive A1 alone is refused too', async () => {
  await refused(conclusion('negative', [await assay(A1, 'reactive')]), 'A2');
});

test('what the strategy concludes is stored: A1+, A2+, A3+ positive (HIV.B7.DT.08), A1− negative (HIV.B7.DT.01)', async () => {
  expect((await post(conclusion('positive', [await assay(A1, 'reactive'), await assay(A2, 'reactive'), await assay(A3, 'reactive')]))).status).toBe(201);
  expect((await post(conclusion('negative', [await assay(A1, 'non-reactive')]))).status).toBe(201);
});

test('no assay on record behind it (diagnosed elsewhere): stored, as the example is', async () => {
  expect((await post(conclusion('positive', ['not-recorded-here']))).status).toBe(201);
});

test('a conclusion that claims no profile is not checked here (the care gaps still read its assays)', async () => {
  const r = conclusion('positive', [await assay(A1, 'reactive')]);
  delete r.meta;
  expect((await post(r)).status).toBe(201);
});

test("another organisation's assay, which the writer cannot see, is not held against the conclusion", async () => {
  const uic = 'CONCLUSION-RULE CLIENT 01011990';
  const register = (org: string) => t.as(['outreach'], org).post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify({
    resourceType: 'Parameters',
    parameter: [{ name: 'uic', valueString: uic }, { name: 'birthYear', valueInteger: 1990 }, { name: 'gender', valueCode: 'female' }],
  }));
  const a = await register('org-a');
  const b = await register('org-b');
  expect(b.body.id).toBe(a.body.id);
  const theirs = await assay(A1, 'reactive', a.body.id as string, t.as(['clinician'], 'org-a'));
  const res = await post(conclusion('negative', [theirs], a.body.id as string), t.as(['clinician'], 'org-b'));
  expect(res.status).toBe(201);
});
