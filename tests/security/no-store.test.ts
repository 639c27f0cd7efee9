/**
 * Security review: FHIR responses carried no Cache-Control, so browsers and intermediaries could
 * keep copies of client records. Every /fhir response (errors included) is `no-store`, except the
 * public capability statement; validators and conditional reads keep working.
 */
import request from 'supertest';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

let t: TestApp;
let patientId: string;
beforeAll(async () => {
  t = startTestApp();
  const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType":"Patient","gender":"female"}');
  expect(res.status).toBe(201);
  patientId = res.body.id;
});
afterAll(() => t.close());

test('read, vread, search and history are no-store', async () => {
  for (const url of [`/fhir/Patient/${patientId}`, `/fhir/Patient/${patientId}/_history/1`, '/fhir/Patient?gender=female', `/fhir/Patient/${patientId}/_history`]) {
    const res = await t.http.get(url);
    expect({ url, status: res.status }).toEqual({ url, status: 200 });
    expect({ url, cache: res.headers['cache-control'] }).toEqual({ url, cache: 'no-store' });
  }
});

test('writes and their answers are no-store', async () => {
  const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType":"Patient","gender":"male"}');
  expect(res.status).toBe(201);
  expect(res.headers['cache-control']).toBe('no-store');
});

test('a conditional read still answers 304 from the ETag, and says no-store too', async () => {
  const first = await t.http.get(`/fhir/Patient/${patientId}`);
  expect(first.headers.etag).toBe('W/"1"');
  expect(first.headers['last-modified']).toBeDefined();
  const again = await t.http.get(`/fhir/Patient/${patientId}`).set('If-None-Match', first.headers.etag!);
  expect(again.status).toBe(304);
  expect(again.headers.etag).toBe('W/"1"');
  expect(again.headers['cache-control']).toBe('no-store');
  expect((await t.http.get(`/fhir/Patient/${patientId}`).set('If-None-Match', 'W/"0"')).status).toBe(200);
});

test('errors are no-store: 401, 404, 429', async () => {
  expect((await request(t.app).get('/fhir/Patient')).headers['cache-control']).toBe('no-store');
  expect((await t.http.get('/fhir/Patient/does-not-exist')).headers['cache-control']).toBe('no-store');
  const limited = startTestApp({ RATE_LIMIT_PER_MINUTE: '1' });
  try {
    await request(limited.app).get('/fhir/Patient');
    const res = await request(limited.app).get('/fhir/Patient');
    expect(res.status).toBe(429);
    expect(res.headers['cache-control']).toBe('no-store');
  } finally {
    await limited.close();
  }
});

test('routes outside /fhir that hold data are no-store', async () => {
  const res = await t.http.get('/bulk-export/no-such-job');
  expect(res.headers['cache-control']).toBe('no-store');
});

test('the public capability statement stays cacheable', async () => {
  const res = await request(t.app).get('/fhir/metadata');
  expect(res.status).toBe(200);
  expect(res.headers['cache-control']).toBeUndefined();
});
