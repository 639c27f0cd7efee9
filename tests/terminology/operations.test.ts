/**
 * Terminology over HTTP: the seeded CodeSystems/ValueSets/Questionnaires are readable and
 * searchable, seeding is idempotent, and $validate-code / $expand answer at type and instance
 * level, by GET and POST, with 400/403/404 where they must.
 */
import type { Parameters, ValueSet } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { loadCatalog } from '../../src/terminology/catalog';
import { seedCatalog } from '../../src/terminology/seed';

const P = 'https://linkcare.example.org/fhir';
const RESULT_CS = `${P}/CodeSystem/test-result`;
const METHOD_VS = `${P}/ValueSet/test-method`;

let t: TestApp;
beforeAll(async () => {
  t = startTestApp();
  await t.linkcare.ready;
});
afterAll(() => t.close());

const param = (body: Parameters, name: string) => body.parameter?.find((p) => p.name === name);
const q = (o: Record<string, string>) => new URLSearchParams(o).toString();

describe('seeded knowledge', () => {
  test('every catalog file is readable at /fhir (CodeSystem, ValueSet, Questionnaire)', async () => {
    for (const r of loadCatalog().resources) {
      const res = await t.as(['outreach']).get(`/fhir/${r.resourceType}/${r.id}`);
      expect([r.resourceType, r.id, res.status]).toEqual([r.resourceType, r.id, 200]);
      expect(res.body.url).toBe(r.url);
    }
  });

  test('CodeSystems can be searched by url', async () => {
    const res = await t.http.get(`/fhir/CodeSystem?url=${encodeURIComponent(RESULT_CS)}`);
    expect(res.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['test-result']);
  });

  test('seeding again writes nothing; a changed file writes one new version', async () => {
    const catalog = loadCatalog();
    expect(await t.store.unitOfWork((tx) => seedCatalog(tx, catalog))).toBe(0);
    const changed = { ...catalog, resources: catalog.resources.map((r) => (r.id === 'vaccine' && r.resourceType === 'CodeSystem' ? { ...r, title: 'Vaccines (changed)' } : r)) };
    expect(await t.store.unitOfWork((tx) => seedCatalog(tx, changed))).toBe(1);
    expect((await t.store.read('CodeSystem', 'vaccine'))!.versionId).not.toBe('1');
    expect(await t.store.unitOfWork((tx) => seedCatalog(tx, catalog))).toBe(1);
  });
});

describe('CodeSystem/$validate-code', () => {
  test('type level by GET: a known code is valid and returns its display', async () => {
    const res = await t.http.get(`/fhir/CodeSystem/$validate-code?${q({ url: RESULT_CS, code: 'reactive' })}`);
    expect(res.status).toBe(200);
    expect(param(res.body, 'result')?.valueBoolean).toBe(true);
    expect(param(res.body, 'display')?.valueString).toBe('Reactive');
  });

  test('an unknown code or a wrong display is not valid, with a message', async () => {
    const unknown = await t.http.get(`/fhir/CodeSystem/$validate-code?${q({ url: RESULT_CS, code: 'positve' })}`);
    expect(param(unknown.body, 'result')?.valueBoolean).toBe(false);
    expect(param(unknown.body, 'message')?.valueString).toContain('positve');
    const display = await t.http.get(`/fhir/CodeSystem/test-result/$validate-code?${q({ code: 'reactive', display: 'Positive' })}`);
    expect(param(display.body, 'result')?.valueBoolean).toBe(false);
    expect(param(display.body, 'display')?.valueString).toBe('Reactive');
  });

  test('instance level by POST with a coding', async () => {
    const body: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'coding', valueCoding: { system: RESULT_CS, code: 'invalid' } }] };
    const res = await t.http.post('/fhir/CodeSystem/test-result/$validate-code').set('Content-Type', FHIR_JSON).send(body);
    expect(param(res.body, 'result')?.valueBoolean).toBe(true);
  });

  test('the DAK fragment validates DAK codes', async () => {
    const res = await t.http.get(`/fhir/CodeSystem/$validate-code?${q({ url: 'http://smart.who.int/hiv/CodeSystem/HIVConcepts', code: 'HIV.B.DE112' })}`);
    expect(param(res.body, 'display')?.valueString).toBe('HIV-positive');
  });
});

describe('ValueSet/$validate-code', () => {
  test('a codeableConcept is valid when any coding is in the set', async () => {
    const body: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'url', valueUri: `${P}/ValueSet/hiv-test-conclusion` },
        { name: 'codeableConcept', valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '165815009' }, { system: 'http://smart.who.int/hiv/CodeSystem/HIVConcepts', code: 'HIV.B.DE113' }] } },
      ],
    };
    const res = await t.http.post('/fhir/ValueSet/$validate-code').set('Content-Type', FHIR_JSON).send(body);
    expect(param(res.body, 'result')?.valueBoolean).toBe(true);
    expect(param(res.body, 'display')?.valueString).toBe('HIV-negative');
  });

  test('a code of a whole-system include is checked against the stored CodeSystem', async () => {
    const yes = await t.http.get(`/fhir/ValueSet/test-method/$validate-code?${q({ system: `${P}/CodeSystem/test-method`, code: 'naat' })}`);
    const no = await t.http.get(`/fhir/ValueSet/test-method/$validate-code?${q({ system: RESULT_CS, code: 'naat' })}`);
    expect([param(yes.body, 'result')?.valueBoolean, param(no.body, 'result')?.valueBoolean]).toEqual([true, false]);
  });

  test('a code without a system is a 400 naming the parameter', async () => {
    const res = await t.http.get(`/fhir/ValueSet/$validate-code?${q({ url: METHOD_VS, code: 'naat' })}`);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(["Parameters.parameter.where(name = 'system')"]);
  });
});

describe('ValueSet/$expand', () => {
  test('type level: every code of the set, with displays and a total', async () => {
    const res = await t.http.get(`/fhir/ValueSet/$expand?${q({ url: METHOD_VS })}`);
    expect(res.status).toBe(200);
    const vs = res.body as ValueSet;
    expect(vs.url).toBe(METHOD_VS);
    expect(vs.compose).toBeUndefined();
    expect(vs.expansion?.total).toBe(7);
    expect(vs.expansion?.contains?.[1]).toEqual({ system: `${P}/CodeSystem/test-method`, code: 'naat', display: 'Nucleic acid amplification test', version: '0.1.0' });
  });

  test('filter matches code or display; count and offset page the matches', async () => {
    const res = await t.http.get(`/fhir/ValueSet/post-rape-care-service/$expand?${q({ filter: 'PROPHYLAXIS', count: '1', offset: '1' })}`);
    const vs = res.body as ValueSet;
    expect(vs.expansion?.total).toBe(2);
    expect(vs.expansion?.offset).toBe(1);
    expect(vs.expansion?.contains?.map((c) => c.code)).toEqual(['sti-prophylaxis']);
  });

  test('errors: unknown value set 404, unknown parameter 400, bad count 400, auditor 403', async () => {
    expect((await t.http.get(`/fhir/ValueSet/$expand?${q({ url: `${P}/ValueSet/nope` })}`)).status).toBe(404);
    expect((await t.http.get('/fhir/ValueSet/nope/$expand')).status).toBe(404);
    const unknown = await t.http.get(`/fhir/ValueSet/$expand?${q({ url: METHOD_VS, colour: 'red' })}`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].expression).toEqual(["Parameters.parameter.where(name = 'colour')"]);
    expect((await t.http.get(`/fhir/ValueSet/$expand?${q({ url: METHOD_VS, count: '-1' })}`)).status).toBe(400);
    expect((await t.as(['auditor']).get(`/fhir/ValueSet/$expand?${q({ url: METHOD_VS })}`)).status).toBe(403);
  });

  test('the OperationDefinition is served with its standard base', async () => {
    const res = await t.http.get('/fhir/OperationDefinition/ValueSet-expand');
    expect(res.status).toBe(200);
    expect(res.body.base).toBe('http://hl7.org/fhir/OperationDefinition/ValueSet-expand');
  });
});
