/** Bad and hostile input: a clear 4xx OperationOutcome, nothing stored, no internals leaked. */
import request from 'supertest';
import pino from 'pino';
import { FHIR_JSON, type TestApp, bearer, startTestApp } from '../helpers/app';
import { createApp } from '../../src/app';
import type { Store } from '../../src/store/port';

let t: TestApp;
/** Versions present before the test: the knowledge resources seeded at start-up. */
let seeded = 0;
beforeEach(async () => {
  t = startTestApp({ BODY_LIMIT: '64kb' });
  seeded = (await t.http.get('/fhir/_history?_count=1')).body.total;
});
afterEach(() => t.close());

const nothingStored = async () => expect((await t.http.get('/fhir/_history?_count=1')).body.total).toBe(seeded);

function expectOutcome(res: request.Response, status: number, code?: string) {
  expect(res.status).toBe(status);
  expect(res.body.resourceType).toBe('OperationOutcome');
  if (code) expect(res.body.issue[0].code).toBe(code);
  expect(JSON.stringify(res.body)).not.toMatch(/at \w+ \(|node_modules|\.ts:\d+/);
}

test.each([
  ['malformed JSON', '{"resourceType": "Patient",', 400],
  ['not an object', '[1,2,3]', 400],
  ['a JSON string', '"Patient"', 400],
  ['an empty body', '', 400],
  ['whitespace only', '   ', 400],
])('%s → 4xx, nothing stored', async (_name, body, status) => {
  const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(body);
  expectOutcome(res, status);
  await nothingStored();
});

test('a syntax error does not echo the body back', async () => {
  const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType":"Patient","secret-client-note":x}');
  expectOutcome(res, 400);
  expect(JSON.stringify(res.body)).not.toContain('secret-client-note');
});

test('a body over the limit → 413', async () => {
  const big = JSON.stringify({ resourceType: 'Patient', extension: [{ url: 'http://x', valueString: 'a'.repeat(70 * 1024) }] });
  const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(big);
  expectOutcome(res, 413, 'too-costly');
  await nothingStored();
});

test('deep nesting → 400 without parsing it', async () => {
  const deep = '{"resourceType":"Patient","extension":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
  const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(deep);
  expectOutcome(res, 400);
  expect(res.body.issue[0].diagnostics).toMatch(/nested deeper/);
});

test.each(['__proto__', 'constructor', 'prototype'])('the key %s is refused wherever it appears', async (key) => {
  const body = `{"resourceType":"Patient","meta":{"tag":[{"${key}":{"polluted":true}}]}}`;
  const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(body);
  expectOutcome(res, 400);
  expect(res.body.issue[0].expression[0]).toBe(`meta.tag[0].${key}`);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  await nothingStored();
});

test('invalid UTF-8 → 400', async () => {
  const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
  expectOutcome(res, 400);
});

test('resourceType not matching the URL → 400 with the path', async () => {
  const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Observation' }));
  expectOutcome(res, 400);
  expect(res.body.issue[0].expression).toEqual(['Patient.resourceType']);
  await nothingStored();
});

test('validation errors name the element with a FHIRPath expression', async () => {
  const res = await t.http
    .post('/fhir/Observation')
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, effectiveDateTime: '2024-13-45', bogus: 1 }));
  expectOutcome(res, 400);
  const expressions = res.body.issue.map((i: { expression: string[] }) => i.expression[0]).sort();
  expect(expressions).toEqual(['Observation.bogus', 'Observation.effectiveDateTime']);
  await nothingStored();
});

test('XML asked for → 406; a non-JSON body → 415', async () => {
  expectOutcome(await t.http.get('/fhir/metadata?_format=xml'), 406);
  expectOutcome(await t.http.get('/fhir/metadata').set('Accept', 'application/fhir+xml'), 406);
  expect((await t.http.get('/fhir/metadata').set('Accept', 'application/fhir+json')).status).toBe(200);
  expect((await t.http.get('/fhir/metadata').set('Accept', 'text/html,*/*;q=0.8')).status).toBe(200);
  // Another FHIR version asked for → 406; R4 by its version parameter → 200.
  expectOutcome(await t.http.get('/fhir/metadata').set('Accept', 'application/fhir+json; fhirVersion=3.0'), 406);
  expect((await t.http.get('/fhir/metadata').set('Accept', 'application/fhir+json; fhirVersion=4.0')).status).toBe(200);
  expect((await t.http.get('/fhir/metadata').set('Accept', 'application/fhir+json; fhirVersion=3.0, application/json')).status).toBe(200);
  const xml = await t.http.post('/fhir/Patient').set('Content-Type', 'application/fhir+xml').send('<Patient xmlns="http://hl7.org/fhir"/>');
  expectOutcome(xml, 415);
  const none = await t.http.post('/fhir/Patient').send(Buffer.from('{}'));
  expectOutcome(none, 415);
  await nothingStored();
});

test('bad percent-encoding, unknown routes and methods → 4xx OperationOutcome', async () => {
  expectOutcome(await t.http.get('/fhir/Patient/%E0%A4%A'), 400);
  expectOutcome(await t.http.get('/fhir/Patient/a/b/c/d/e'), 404);
  expectOutcome(await t.http.get('/fhir/Patient/..%2F..%2Fetc%2Fpasswd'), 404);
  expectOutcome(await t.http.post('/fhir/Patient/abc').set('Content-Type', FHIR_JSON).send('{}'), 405);
  expectOutcome(await t.http.get('/nowhere'), 404);
  expectOutcome(await t.http.get('/fhir/Patient?_count=-1'), 400);
  expectOutcome(await t.http.get('/fhir/Patient?_count=99999999999'), 400);
});

test('an unexpected failure → generic 500 with the request id, details only in the log', async () => {
  const broken: Store = {
    ...t.store,
    read: () => Promise.reject(new Error('disk on fire at /var/lib/secret')),
  };
  const logs: string[] = [];
  const app = createApp({ config: t.config, registry: t.registry, store: broken, logger: pino({}, { write: (l: string) => void logs.push(l) }) });
  const res = await request(app).get('/fhir/Patient/abc').set('X-Request-Id', 'req-12345678').set('Authorization', bearer(['clinician']));
  expect(res.status).toBe(500);
  expect(res.body.issue[0].code).toBe('exception');
  expect(res.body.issue[0].diagnostics).toContain('req-12345678');
  expect(JSON.stringify(res.body)).not.toContain('disk on fire');
  expect(logs.join('')).toContain('disk on fire');
});
