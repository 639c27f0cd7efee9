/** Every parameter type × modifier × prefix on real resources (http://hl7.org/fhir/R4/search.html). */
import { BASE, FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { Named } from '../helpers/named';

let t: TestApp;
const named = new Named(() => t);
const ids = named.ids;
const put = (name: string, body: object) => named.create(name, body);

/** Names (keys of `ids`) the search returns, sorted. */
async function names(query: string): Promise<string[]> {
  const res = await t.http.get(`/fhir/${query}`);
  if (res.status !== 200) throw new Error(`${query}: ${res.status} ${JSON.stringify(res.body)}`);
  const byId = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
  return (res.body.entry ?? []).filter((e: { search: { mode: string } }) => e.search.mode === 'match').map((e: { resource: { id: string } }) => byId[e.resource.id]).sort();
}

const LOINC = 'http://loinc.org';
const CODE_SYS = 'http://linkcare.example.org/client-code';

beforeAll(async () => {
  t = startTestApp({ BIRTHDATE_PRECISION: 'month' });
  await put('clinic', { resourceType: 'Organization', name: 'Clínica São Paulo', type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov' }] }] });
  await put('dic', { resourceType: 'Organization', name: 'Drop-in Centre', active: false });
  await put('ana', {
    resourceType: 'Patient',
    gender: 'female',
    birthDate: '1990',
    identifier: [{ system: CODE_SYS, value: 'K7Q-2MX4', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }], text: 'client code' } }],
    managingOrganization: { reference: `Organization/${ids.clinic}` },
    meta: { tag: [{ system: 'http://example.org/tags', code: 'kp' }], profile: ['http://linkcare.example.org/StructureDefinition/client'] },
  });
  await put('bo', { resourceType: 'Patient', gender: 'male', birthDate: '2001-06', managingOrganization: { reference: `${BASE}/Organization/${ids.dic}` } });
  await put('cy', { resourceType: 'Patient', gender: 'other' });
  await put('vl1', {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '23876-6', display: 'HIV viral load' }], text: 'Viral load' },
    subject: { reference: `Patient/${ids.ana}` },
    effectiveDateTime: '2024-03-10T10:00:00+02:00',
    valueQuantity: { value: 800, unit: 'copies/mL', system: 'http://unitsofmeasure.org', code: '{copies}/mL' },
  });
  await put('vl2', {
    resourceType: 'Observation',
    status: 'amended',
    code: { coding: [{ system: LOINC, code: '23876-6' }] },
    subject: { reference: `Patient/${ids.bo}` },
    effectivePeriod: { start: '2024-04-01', end: '2024-04-03' },
    valueQuantity: { value: 1500, unit: 'copies/mL', system: 'http://unitsofmeasure.org', code: '{copies}/mL' },
  });
  await put('crp', {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '1988-5' }], text: 'C reactive protein' },
    subject: { reference: `Patient/${ids.cy}` },
    effectiveDateTime: '2023',
    valueQuantity: { value: 0.012, unit: 'g/L', system: 'http://unitsofmeasure.org', code: 'g/L' },
  });
  await put('untyped', { resourceType: 'Observation', status: 'preliminary', code: { coding: [{ code: 'local-1' }] } });
  await put('rdt', {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '49905-3' }] },
    subject: { reference: `Patient/${ids.ana}` },
    valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '165815009' }] },
  });
  await put('q', { resourceType: 'Questionnaire', status: 'active', url: 'http://linkcare.example.org/Questionnaire/phq9' });
  await put('q2', { resourceType: 'Questionnaire', status: 'draft', url: 'http://linkcare.example.org/Questionnaire/phq9/short' });
  await put('imm', { resourceType: 'Immunization', status: 'completed', vaccineCode: { text: 'HBV' }, patient: { reference: `Patient/${ids.ana}` }, occurrenceDateTime: '2024-01-05', protocolApplied: [{ doseNumberPositiveInt: 2 }] });
});
afterAll(() => t.close());

describe('token', () => {
  test.each([
    [`Observation?code=${LOINC}|23876-6`, ['vl1', 'vl2']],
    ['Observation?code=23876-6', ['vl1', 'vl2']],
    ['Observation?code=|local-1', ['untyped']],
    ['Observation?code=|23876-6', []],
    [`Observation?code=${LOINC}|`, ['crp', 'rdt', 'vl1', 'vl2']],
    ['Observation?code=23876-6,1988-5', ['crp', 'vl1', 'vl2']],
    ['Observation?code:not=23876-6', ['crp', 'rdt', 'untyped']],
    ['Observation?code:text=viral', ['vl1']],
    ['Observation?code:text=reactive', ['crp']],
    ['Observation?status=final&code=23876-6', ['vl1']],
    ['Patient?gender=female', ['ana']],
    ['Patient?identifier=K7Q-2MX4', ['ana']],
    [`Patient?identifier=${CODE_SYS}|K7Q-2MX4`, ['ana']],
    ['Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|K7Q-2MX4', ['ana']],
    ['Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|SS|K7Q-2MX4', []],
    ['Patient?_tag=http://example.org/tags|kp', ['ana']],
    ['Organization?active=false', ['dic']],
    ['Observation?value-concept=165815009', ['rdt']],
  ])('%s', async (q, expected) => {
    expect(await names(q)).toEqual(expected);
  });
});

describe('string', () => {
  test.each([
    ['Organization?name=clinica', ['clinic']],
    ['Organization?name=CLÍNICA SÃO', ['clinic']],
    ['Organization?name=paulo', []],
    ['Organization?name:contains=paulo', ['clinic']],
    ['Organization?name:exact=Clínica São Paulo', ['clinic']],
    ['Organization?name:exact=clínica são paulo', []],
    ['Organization?name=drop,clin', ['clinic', 'dic']],
  ])('%s', async (q, expected) => {
    expect(await names(q)).toEqual(expected);
  });
});

describe('reference', () => {
  test('Type/id, bare id, absolute local URL, :Type modifier', async () => {
    expect(await names(`Observation?subject=Patient/${ids.ana}`)).toEqual(['rdt', 'vl1']);
    expect(await names(`Observation?subject=${ids.ana}`)).toEqual(['rdt', 'vl1']);
    expect(await names(`Observation?subject=${encodeURIComponent(`${BASE}/Patient/${ids.bo}`)}`)).toEqual(['vl2']);
    expect(await names(`Observation?subject:Patient=${ids.cy}`)).toEqual(['crp']);
    expect(await names(`Observation?patient=${ids.ana}`)).toEqual(['rdt', 'vl1']);
    expect(await names(`Patient?organization=${ids.dic}`)).toEqual(['bo']);
    expect(await names(`Immunization?patient=Patient/${ids.ana}`)).toEqual(['imm']);
  });
});

describe('date', () => {
  test.each([
    ['Observation?date=2024-03-10', ['vl1']],
    ['Observation?date=2024-03', ['vl1']],
    ['Observation?date=2024', ['vl1', 'vl2']],
    ['Observation?date=eq2023', ['crp']],
    ['Observation?date=gt2024-03-31', ['vl2']],
    ['Observation?date=lt2024', ['crp']],
    ['Observation?date=ge2024-04-02', ['vl2']],
    ['Observation?date=le2023-06', ['crp']],
    ['Observation?date=sa2024-03-31', ['vl2']],
    ['Observation?date=eb2024-01-01', ['crp']],
    ['Observation?date=ne2024', ['crp']],
    // 10:00+02:00 is 08:00Z: the time zone is honoured.
    ['Observation?date=2024-03-10T08:00:00Z', ['vl1']],
    ['Observation?date=2024-03-10T10:00:00Z', []],
    ['Observation?date=2024-04-02', []],
    ['Observation?date=ge2024-04-01&date=le2024-04-03', ['vl2']],
    ['Patient?birthdate=1990', ['ana']],
    ['Patient?birthdate=lt1995', ['ana']],
    ['Patient?birthdate=2001-06', ['bo']],
  ])('%s', async (q, expected) => {
    expect(await names(q)).toEqual(expected);
  });
});

describe('number and quantity', () => {
  test.each([
    ['Observation?value-quantity=800', ['vl1']],
    ['Observation?value-quantity=lt1000', ['crp', 'vl1']],
    ['Observation?value-quantity=ge1000', ['vl2']],
    ['Observation?value-quantity=ne800', ['crp', 'vl2']],
    ['Observation?value-quantity=ap1400', ['vl2']],
    ['Observation?value-quantity=8e2', ['vl1']],
    ['Observation?value-quantity=800||{copies}/mL', ['vl1']],
    ['Observation?value-quantity=800|http://unitsofmeasure.org|{copies}/mL', ['vl1']],
    // 0.012 g/L is 12 mg/L: comparison through the canonical UCUM unit.
    ['Observation?value-quantity=12|http://unitsofmeasure.org|mg/L', ['crp']],
    ['Observation?value-quantity=1.2|http://unitsofmeasure.org|mg/dL', ['crp']],
    ['Observation?value-quantity=gt10|http://unitsofmeasure.org|mg/L', ['crp']],
    ['Observation?value-quantity=lt10|http://unitsofmeasure.org|mg/L', []],
    ['Immunization?_id=x', []],
  ])('%s', async (q, expected) => {
    expect(await names(q)).toEqual(expected);
  });

  test('precision: 100 stands for [99.5, 100.5)', async () => {
    expect(await names('Observation?value-quantity=8.0e2')).toEqual(['vl1']);
    expect(await names('Observation?value-quantity=800.4')).toEqual([]);
  });
});

describe('uri', () => {
  test.each([
    ['Questionnaire?url=http://linkcare.example.org/Questionnaire/phq9', ['q']],
    ['Questionnaire?url:below=http://linkcare.example.org/Questionnaire', ['q', 'q2']],
    ['Questionnaire?url:above=http://linkcare.example.org/Questionnaire/phq9/short', ['q', 'q2']],
    ['Patient?_profile=http://linkcare.example.org/StructureDefinition/client', ['ana']],
  ])('%s', async (q, expected) => {
    expect(await names(q)).toEqual(expected);
  });
});

describe(':missing on every type', () => {
  test.each([
    ['Patient?birthdate:missing=true', ['cy']],
    ['Patient?birthdate:missing=false', ['ana', 'bo']],
    ['Patient?_profile:missing=true', ['bo', 'cy']],
    ['Observation?subject:missing=true', ['untyped']],
    ['Observation?value-quantity:missing=false', ['crp', 'vl1', 'vl2']],
    ['Organization?name:missing=false', ['clinic', 'dic']],
    ['Questionnaire?url:missing=true', []],
    ['Observation?code-value-quantity:missing=false', ['crp', 'vl1', 'vl2']],
  ])('%s', async (q, expected) => {
    expect(await names(q)).toEqual(expected);
  });
});

describe('composite', () => {
  test.each([
    [`Observation?code-value-quantity=${LOINC}|23876-6$lt1000`, ['vl1']],
    ['Observation?code-value-quantity=23876-6$gt1000', ['vl2']],
    ['Observation?code-value-quantity=1988-5$12|http://unitsofmeasure.org|mg/L', ['crp']],
    ['Observation?code-value-concept=49905-3$http://snomed.info/sct|165815009', ['rdt']],
    ['Observation?code-value-concept=49905-3$http://snomed.info/sct|713742005', []],
  ])('%s', async (q, expected) => {
    expect(await names(q)).toEqual(expected);
  });
});

describe('bad values and modifiers are 400 naming the parameter', () => {
  test.each([
    'Observation?date=2024-13',
    'Observation?value-quantity=abc',
    'Patient?gender:exact=female',
    'Organization?name:text=x',
    'Observation?subject:missing=maybe',
    'Observation?code-value-quantity=23876-6',
    'Observation?subject=Organization/x',
  ])('%s', async (q) => {
    const res = await t.http.get(`/fhir/${q}`);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression[0]).toBe(q.split('?')[1]!.split('=')[0]);
  });
});

describe(':in and :not-in with the server\'s ValueSets', () => {
  beforeAll(async () => {
    const vs = {
      resourceType: 'ValueSet',
      url: 'https://linkcare.example.org/fhir/ValueSet/hiv-monitoring',
      status: 'active',
      compose: { include: [{ system: LOINC, concept: [{ code: '23876-6' }, { code: '49905-3' }] }] },
    };
    const res = await t.http.post('/fhir/ValueSet').set('Content-Type', FHIR_JSON).send(JSON.stringify(vs));
    expect(res.status).toBe(201);
    await t.http.post('/fhir/ValueSet').set('Content-Type', FHIR_JSON).send(JSON.stringify({
      resourceType: 'ValueSet', url: 'https://linkcare.example.org/fhir/ValueSet/intensional', status: 'active',
      compose: { include: [{ system: LOINC, filter: [{ property: 'COMPONENT', op: '=', value: 'HIV' }] }] },
    }));
  });

  test.each([
    ['Observation?code:in=https://linkcare.example.org/fhir/ValueSet/hiv-monitoring', ['rdt', 'vl1', 'vl2']],
    ['Observation?code:not-in=https://linkcare.example.org/fhir/ValueSet/hiv-monitoring', ['crp', 'untyped']],
  ])('%s', async (q, expected) => {
    expect(await names(q)).toEqual(expected);
  });

  test('an unknown or non-enumerated value set is a 400', async () => {
    expect((await t.http.get('/fhir/Observation?code:in=https://nowhere.example.org/vs')).status).toBe(400);
    const res = await t.http.get('/fhir/Observation?code:in=https://linkcare.example.org/fhir/ValueSet/intensional');
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toContain('enumerated');
  });
});
