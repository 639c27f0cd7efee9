/**
 * The decision operations over HTTP: happy paths, schema errors (400) naming the parameter,
 * impossible inputs (422), refusal for reporting and auditor roles (403), conformance (metadata
 * and OperationDefinition), GET for primitive-only inputs, and that nothing is stored.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import request from 'supertest';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

const OPERATIONS = ['hiv-testing-strategy', 'hiv-retest-due', 'tb-screen', 'post-exposure', 'sti-syndromic', 'hbv-vaccination-schedule'];

const params = (...parameter: ParametersParameter[]): Parameters => ({ resourceType: 'Parameters', parameter });
const assay = (step: string, result: string): ParametersParameter => ({
  name: 'assay',
  part: [
    { name: 'step', valueCode: step },
    { name: 'result', valueCode: result },
  ],
});

/** A valid input for each operation. */
const HAPPY: Record<string, Parameters> = {
  'hiv-testing-strategy': params(assay('A1', 'reactive'), assay('A2', 'reactive'), assay('A3', 'non-reactive'), { name: 'visitDate', valueDate: '2025-03-01' }),
  'hiv-retest-due': params({ name: 'lastNegativeTestDate', valueDate: '2025-01-15' }, { name: 'keyPopulation', valueBoolean: true }, { name: 'onPrep', valueBoolean: true }),
  'tb-screen': params({ name: 'age', valueInteger: 34 }, { name: 'symptom', valueCode: 'cough' }, { name: 'symptom', valueCode: 'fever' }, { name: 'algorithm', valueCode: 'w4ss-crp' }, { name: 'crp', valueQuantity: { value: 12, unit: 'mg/L', system: 'http://unitsofmeasure.org', code: 'mg/L' } }),
  'post-exposure': params(
    { name: 'exposureDateTime', valueDateTime: '2025-03-01T22:00:00Z' },
    { name: 'assessmentDateTime', valueDateTime: '2025-03-04T21:59:00Z' },
    { name: 'exposureType', valueCode: 'sexual-assault' },
    { name: 'hivStatus', valueCode: 'unknown' },
    { name: 'pregnant', valueBoolean: false },
    { name: 'sex', valueCode: 'female' },
  ),
  'sti-syndromic': params({ name: 'syndrome', valueCode: 'genital-ulcer' }, { name: 'sex', valueCode: 'female' }, { name: 'pregnant', valueBoolean: true }),
  'hbv-vaccination-schedule': params({ name: 'doseDate', valueDate: '2025-01-01' }, { name: 'schedule', valueCode: 'accelerated' }),
};

/** An input the schema rejects, and the parameter the error must name. */
const MALFORMED: Record<string, [Parameters, string]> = {
  'hiv-testing-strategy': [params(assay('A4', 'reactive')), 'assay'],
  'hiv-retest-due': [params({ name: 'lastNegativeTestDate', valueDate: '2025-01-15' }, { name: 'onPrep', valueBoolean: true }), 'keyPopulation'],
  'tb-screen': [params({ name: 'age', valueInteger: 34 }, { name: 'symptom', valueCode: 'headache' }), 'symptom'],
  'post-exposure': [params({ ...HAPPY['post-exposure']!.parameter![0]!, valueDateTime: '2025-03-01' }, ...HAPPY['post-exposure']!.parameter!.slice(1)), 'exposureDateTime'],
  'sti-syndromic': [params({ name: 'syndrome', valueCode: 'sore-throat' }, { name: 'sex', valueCode: 'female' }, { name: 'pregnant', valueBoolean: false }), 'syndrome'],
  'hbv-vaccination-schedule': [params({ name: 'doseDate', valueDate: '2025-01-01' }, { name: 'schedule', valueCode: 'yearly' }), 'schedule'],
};

/** A well-formed input that cannot happen, and the parameter the error must name. */
const IMPOSSIBLE: Record<string, [Parameters, string]> = {
  'hiv-testing-strategy': [params(assay('A1', 'non-reactive'), assay('A2', 'reactive')), 'assay'],
  'hiv-retest-due': [params({ name: 'lastNegativeTestDate', valueDate: '2999-01-01' }, { name: 'keyPopulation', valueBoolean: true }, { name: 'onPrep', valueBoolean: false }), 'lastNegativeTestDate'],
  'tb-screen': [params({ name: 'age', valueInteger: -3 }), 'age'],
  'post-exposure': [params(...HAPPY['post-exposure']!.parameter!.map((p) => (p.name === 'assessmentDateTime' ? { ...p, valueDateTime: '2025-03-01T21:00:00Z' } : p))), 'assessmentDateTime'],
  'sti-syndromic': [params({ name: 'syndrome', valueCode: 'vaginal-discharge' }, { name: 'sex', valueCode: 'male' }, { name: 'pregnant', valueBoolean: false }), 'syndrome'],
  'hbv-vaccination-schedule': [params({ name: 'doseDate', valueDate: '2025-02-01' }, { name: 'doseDate', valueDate: '2025-01-01' }, { name: 'schedule', valueCode: 'standard' }), 'doseDate'],
};

let t: TestApp;
beforeAll(() => {
  t = startTestApp();
});
afterAll(() => t.close());

const post = (op: string, body: unknown, agent = t.as(['clinician'])) => agent.post(`/fhir/$${op}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
const one = (body: Parameters, name: string) => body.parameter?.find((p) => p.name === name);
const all = (body: Parameters, name: string) => (body.parameter ?? []).filter((p) => p.name === name);
const part = (p: ParametersParameter | undefined, name: string) => p?.part?.find((q) => q.name === name);
const expressions = (body: { issue: { expression?: string[] }[] }) => body.issue.flatMap((i) => i.expression ?? []);

describe('happy paths', () => {
  test('$hiv-testing-strategy: A1+ A2+ A3− is inconclusive, retest in 14 days (HIV.B7.DT.07)', async () => {
    const res = await post('hiv-testing-strategy', HAPPY['hiv-testing-strategy']);
    expect(res.status).toBe(200);
    expect(res.body.parameter).toEqual([
      { name: 'conclusion', valueCode: 'HIV-inconclusive' },
      { name: 'retestDate', valueDate: '2025-03-15' },
      { name: 'rule', valueString: 'HIV.B7.DT.07' },
    ]);
  });

  test('$hiv-testing-strategy: a single assay arrives as one value, and visitDate defaults to today', async () => {
    const res = await post('hiv-testing-strategy', params(assay('A1', 'reactive')), t.as(['outreach']));
    expect(res.status).toBe(200);
    expect(res.body.parameter).toEqual([{ name: 'nextStep', valueCode: 'A2' }, { name: 'rule', valueString: 'HIV.B7.DT.02' }]);
  });

  test('$hiv-retest-due: a key-population PrEP user retests in 3 months (HIV.B9.DT.07)', async () => {
    const res = await post('hiv-retest-due', HAPPY['hiv-retest-due']);
    expect(res.status).toBe(200);
    expect(one(res.body, 'nextTestDate')).toEqual({ name: 'nextTestDate', valueDate: '2025-04-15' });
    expect(one(res.body, 'rule')?.valueString).toBe('HIV.B9.DT.07');
    expect(all(res.body, 'recommendation').map((r) => part(r, 'rule')?.valueString)).toEqual(['HIV.B9.DT.03', 'HIV.B9.DT.07']);
  });

  test('$tb-screen: symptoms and CRP 12 mg/L screen positive (HIV.D4.DT.06)', async () => {
    const res = await post('tb-screen', HAPPY['tb-screen']);
    expect(res.status).toBe(200);
    expect(one(res.body, 'result')?.valueCode).toBe('screen-positive');
    expect(one(res.body, 'action')?.valueString).toMatch(/Refer for diagnostic evaluation/);
    expect(one(res.body, 'rule')?.valueString).toBe('HIV.D4.DT.06');
  });

  test('$tb-screen: no symptom given means none (HIV.D4.DT.02)', async () => {
    const res = await post('tb-screen', params({ name: 'age', valueInteger: 19 }));
    expect(res.body.parameter).toEqual([
      { name: 'result', valueCode: 'screen-negative' },
      { name: 'action', valueString: expect.stringMatching(/TB preventive treatment/) },
      { name: 'rule', valueString: 'HIV.D4.DT.02' },
    ]);
  });

  test('$post-exposure: at 71 h 59 min PEP and EC are open, with the post-rape care package', async () => {
    const res = await post('post-exposure', HAPPY['post-exposure']);
    expect(res.status).toBe(200);
    const b = res.body as Parameters;
    expect(one(b, 'pepEligible')?.valueBoolean).toBe(true);
    expect(one(b, 'pepDeadline')?.valueDateTime).toBe('2025-03-04T22:00:00Z');
    expect(one(b, 'ecEligible')?.valueBoolean).toBe(true);
    expect(one(b, 'ecDeadline')?.valueDateTime).toBe('2025-03-06T22:00:00Z');
    expect(one(b, 'stiProphylaxis')?.valueBoolean).toBe(true);
    expect(one(b, 'hbvVaccination')?.valueBoolean).toBe(true);
    expect(all(b, 'followUp').map((f) => [part(f, 'service')?.valueString, part(f, 'dueDate')?.valueDate])).toEqual([
      ['HIV test', '2025-06-01'],
      ['Mental-health follow-up', '2025-06-01'],
    ]);
    expect(all(b, 'rule').map((r) => r.valueString)).toEqual(['SWIT5.7.PEP.01', 'SWIT5.7.EC.01', 'SWIT5.7.SA.01', 'SWIT5.7.FU.01']);
  });

  test('$post-exposure: at 72 h 01 min PEP is closed', async () => {
    const body = params(...HAPPY['post-exposure']!.parameter!.map((p) => (p.name === 'assessmentDateTime' ? { ...p, valueDateTime: '2025-03-04T22:01:00Z' } : p)));
    const res = await post('post-exposure', body);
    expect(one(res.body, 'pepEligible')?.valueBoolean).toBe(false);
    expect(all(res.body, 'rule').map((r) => r.valueString)).toContain('SWIT5.7.PEP.02');
  });

  test.each(['other', 'unknown', 'male'])('$post-exposure: sex %s (registered gender) does not rule emergency contraception out (SWIT 5.7)', async (sex) => {
    const body = params(...HAPPY['post-exposure']!.parameter!.map((p) => (p.name === 'sex' ? { ...p, valueCode: sex } : p)));
    const res = await post('post-exposure', body);
    expect(res.status).toBe(200);
    expect(one(res.body, 'ecEligible')?.valueBoolean).toBe(true);
    expect(all(res.body, 'rule').map((r) => r.valueString)).toContain('SWIT5.7.EC.01');
  });

  test('$post-exposure: pregnancyPossible=false, given by the clinician, rules emergency contraception out', async () => {
    const body = params(...HAPPY['post-exposure']!.parameter!, { name: 'pregnancyPossible', valueBoolean: false });
    const res = await post('post-exposure', body);
    expect(res.status).toBe(200);
    expect(one(res.body, 'ecEligible')?.valueBoolean).toBe(false);
    expect(one(res.body, 'pepEligible')?.valueBoolean).toBe(true);
  });

  test('$sti-syndromic: options from the versioned table, with its review status', async () => {
    const res = await post('sti-syndromic', HAPPY['sti-syndromic']);
    expect(res.status).toBe(200);
    const options = all(res.body, 'option');
    expect(options.length).toBeGreaterThan(0);
    expect(part(options[0], 'regimen')?.valueString).toMatch(/Benzathine penicillin/);
    expect(part(options[0], 'note')?.valueString).toBeTruthy();
    expect(one(res.body, 'rule')?.valueString).toBe('STI.SYN.GU.02');
    expect(one(res.body, 'tableVersion')?.valueString).toBeTruthy();
    expect(one(res.body, 'reviewStatus')?.valueString).toBe('draft — needs clinical review');
  });

  test('$hbv-vaccination-schedule: accelerated, one dose → day 7; three standard doses → complete', async () => {
    const res = await post('hbv-vaccination-schedule', HAPPY['hbv-vaccination-schedule']);
    expect(res.status).toBe(200);
    expect(res.body.parameter).toEqual([{ name: 'nextDoseDate', valueDate: '2025-01-08' }, { name: 'rule', valueString: 'HBV.ACC.02' }]);
    const done = await post(
      'hbv-vaccination-schedule',
      params(...['2024-01-01', '2024-02-01', '2024-07-01'].map((d) => ({ name: 'doseDate', valueDate: d })), { name: 'schedule', valueCode: 'standard' }),
    );
    expect(done.body.parameter).toEqual([{ name: 'complete', valueBoolean: true }, { name: 'rule', valueString: 'HBV.STD.04' }]);
  });
});

describe('errors', () => {
  test.each(OPERATIONS)('$%s: a schema error is a 400 naming the parameter', async (op) => {
    const [body, param] = MALFORMED[op]!;
    const res = await post(op, body);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(expressions(res.body)).toContain(`Parameters.parameter.where(name = '${param}')`);
  });

  test.each(OPERATIONS)('$%s: an impossible input is a 422 naming the parameter', async (op) => {
    const [body, param] = IMPOSSIBLE[op]!;
    const res = await post(op, body);
    expect(res.status).toBe(422);
    expect(res.body.issue[0].code).toBe('business-rule');
    expect(expressions(res.body)).toContain(`Parameters.parameter.where(name = '${param}')`);
  });

  test.each(OPERATIONS.flatMap((op) => [[op, 'reporting'], [op, 'auditor']] as const))('$%s is refused to %s (403)', async (op, role) => {
    const res = await post(op, HAPPY[op], t.as([role]));
    expect(res.status).toBe(403);
    expect(res.body.issue[0].code).toBe('forbidden');
  });

  test('a caller with a care role beside auditor may call them', async () => {
    expect((await post('tb-screen', HAPPY['tb-screen'], t.as(['auditor', 'admin']))).status).toBe(200);
  });

  test('an unauthenticated call is a 401', async () => {
    const res = await request(t.app).post('/fhir/$tb-screen').set('Content-Type', FHIR_JSON).send(JSON.stringify(HAPPY['tb-screen']));
    expect(res.status).toBe(401);
  });

  test('a body that is not Parameters is a 400', async () => {
    expect((await post('tb-screen', { resourceType: 'Patient' })).status).toBe(400);
  });
});

describe('GET', () => {
  test('works when every input is primitive, repeated ones included', async () => {
    const res = await t.as(['clinician']).get('/fhir/$hbv-vaccination-schedule?doseDate=2025-01-01&doseDate=2025-01-08&schedule=accelerated');
    expect(res.status).toBe(200);
    expect(res.body.parameter).toEqual([{ name: 'nextDoseDate', valueDate: '2025-01-22' }, { name: 'rule', valueString: 'HBV.ACC.03' }]);
    const retest = await t.as(['outreach']).get('/fhir/$hiv-retest-due?lastNegativeTestDate=2025-01-15&keyPopulation=true&onPrep=false');
    expect(one(retest.body, 'nextTestDate')?.valueDate).toBe('2026-01-15');
  });

  test('a value of the wrong type is a 400 naming it', async () => {
    const res = await t.as(['clinician']).get('/fhir/$hiv-retest-due?lastNegativeTestDate=2025-01-15&keyPopulation=yes&onPrep=false');
    expect(res.status).toBe(400);
    expect(expressions(res.body)).toContain("Parameters.parameter.where(name = 'keyPopulation')");
  });

  test('inputs with parts or complex types need POST', async () => {
    const res = await t.as(['clinician']).get('/fhir/$hiv-testing-strategy?assay=A1');
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/POST/);
    expect((await t.as(['clinician']).get('/fhir/$tb-screen?age=30&crp=4')).status).toBe(400);
  });
});

describe('conformance', () => {
  test('every operation is listed in the CapabilityStatement and readable as an OperationDefinition', async () => {
    const cap = await t.http.get('/fhir/metadata');
    const listed = cap.body.rest[0].operation as { name: string; definition: string }[];
    for (const op of OPERATIONS) {
      const entry = listed.find((o) => o.name === op);
      expect(entry).toBeDefined();
      const def = await t.as(['clinician']).get(`/fhir/OperationDefinition/${op}`);
      expect(def.status).toBe(200);
      expect(def.body).toMatchObject({ resourceType: 'OperationDefinition', code: op, url: entry!.definition, system: true, type: false, instance: false, affectsState: false });
      expect(def.body.parameter.some((p: { name: string; use: string }) => p.name === 'rule' && p.use === 'out')).toBe(true);
    }
  });
});

describe('purity', () => {
  test('calling every operation, well or badly, stores nothing', async () => {
    const clinician = t.as(['clinician']);
    // Something stored first, so "unchanged" is not just "still empty".
    const obs = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '23876-6' }] } };
    expect((await clinician.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(JSON.stringify(obs))).status).toBe(201);
    const before = (await clinician.get('/fhir/_history')).body.total as number;
    expect(before).toBeGreaterThan(0);
    for (const op of OPERATIONS) {
      expect((await post(op, HAPPY[op], clinician)).status).toBe(200);
      await post(op, MALFORMED[op]![0], clinician);
      await post(op, IMPOSSIBLE[op]![0], clinician);
    }
    expect((await clinician.get('/fhir/_history')).body.total).toBe(before);
  });
});
