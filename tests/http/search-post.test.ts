/** POST _search at system and type level (http://hl7.org/fhir/R4/http.html#search). */
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

let t: TestApp;
beforeEach(() => {
  t = startTestApp();
});
afterEach(() => t.close());

const FORM = 'application/x-www-form-urlencoded';

async function seed(): Promise<void> {
  const patient = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', gender: 'female' }));
  for (const code of ['vl', 'cd4']) {
    const obs = { resourceType: 'Observation', status: 'final', code: { text: code }, subject: { reference: `Patient/${patient.body.id}` } };
    expect((await t.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(JSON.stringify(obs))).status).toBe(201);
  }
  expect((await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name: 'A' }))).status).toBe(201);
}

test('POST [base]/_search with a form body is a system search, like GET [base]?…', async () => {
  await seed();
  const res = await t.http.post('/fhir/_search').set('Content-Type', FORM).send('_type=Observation');
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
  const types = res.body.entry.filter((e: { search: { mode: string } }) => e.search.mode === 'match').map((e: { resource: { resourceType: string } }) => e.resource.resourceType);
  expect(types).toEqual(['Observation', 'Observation']);
  const get = await t.http.get('/fhir?_type=Observation');
  expect(res.body.total).toBe(get.body.total);
});

test('POST [base]/_search mixes URL and body parameters', async () => {
  await seed();
  const res = await t.http.post('/fhir/_search?_type=Organization').set('Content-Type', FORM).send('name=A');
  expect(res.status).toBe(200);
  expect(res.body.entry.map((e: { resource: { name: string } }) => e.resource.name)).toEqual(['A']);
});

test('a JSON body to _search is 415, not a search without parameters', async () => {
  await seed();
  const typed = await t.http.post('/fhir/Observation/_search').set('Content-Type', FHIR_JSON).send(JSON.stringify({ code: 'vl' }));
  expect(typed.status).toBe(415);
  expect(typed.body.resourceType).toBe('OperationOutcome');
  const system = await t.http.post('/fhir/_search').set('Content-Type', 'application/json').send(JSON.stringify({ _type: 'Observation' }));
  expect(system.status).toBe(415);
  // An empty body needs no type: the parameters are in the URL.
  const empty = await t.http.post('/fhir/Observation/_search?code:text=vl');
  expect(empty.status).toBe(200);
  expect(empty.body.total).toBe(1);
});

test('other methods on [base]/_search are 405 with Allow: POST', async () => {
  const res = await t.http.get('/fhir/_search');
  expect(res.status).toBe(405);
  expect(res.headers.allow).toBe('POST');
});
