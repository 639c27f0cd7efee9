/**
 * Security review (issues #4, #6): probing for existence. Organisation B knows (or guesses) the
 * client code or an id of A's client and tries conditional interactions, transaction references
 * and tampered paging cursors to learn whether A holds anything. Each must answer exactly as if
 * nothing existed. These pin behaviour verified in the review.
 */
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

const A = 'probe-clinic-a';
const B = 'probe-clinic-b';
const CLIENT_CODE = 'https://linkcare.example.org/fhir/sid/client-code';

let t: TestApp;
const clin = (org: string) => t.as(['clinician'], org);
let patient: string;
let code: string;
let obs: string;

beforeAll(async () => {
  t = startTestApp();
  const p = await clin(A).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', gender: 'female' }));
  patient = p.body.id;
  code = p.body.identifier.find((i: { system: string }) => i.system === CLIENT_CODE).value;
  const o = await clin(A).post('/fhir/Observation').set('Content-Type', FHIR_JSON)
    .send(JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'hiv' }, valueString: 'reactive', subject: { reference: `Patient/${patient}` } }));
  obs = o.body.id;
});
afterAll(() => t.close());

const noTrace = (body: unknown) => {
  const text = JSON.stringify(body);
  expect(text).not.toContain(patient);
  expect(text).not.toContain(obs);
  expect(text).not.toContain('reactive');
};

test('search by A\'s client code: total 0 for B, as for a code nobody has', async () => {
  const known = await clin(B).get(`/fhir/Patient?identifier=${CLIENT_CODE}|${code}`);
  const unknown = await clin(B).get(`/fhir/Patient?identifier=${CLIENT_CODE}|0000-0000-000`);
  expect(known.body.total).toBe(0);
  expect(unknown.body.total).toBe(0);
});

test('If-None-Exist on A\'s client code creates B\'s own Patient instead of answering 200 with A\'s', async () => {
  const res = await clin(B).post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('If-None-Exist', `identifier=${CLIENT_CODE}|${code}`)
    .send(JSON.stringify({ resourceType: 'Patient', gender: 'male' }));
  expect(res.status).toBe(201);
  expect(res.body.id).not.toBe(patient);
});

test('If-None-Exist on A\'s Observation id creates a new one; a conditional update does not touch A\'s', async () => {
  const mine = await clin(B).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', gender: 'female' }));
  const body = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${mine.body.id}` } };
  const created = await clin(B).post('/fhir/Observation').set('Content-Type', FHIR_JSON).set('If-None-Exist', `_id=${obs}`).send(JSON.stringify(body));
  expect(created.status).toBe(201);
  expect(created.body.id).not.toBe(obs);
  const updated = await clin(B).put(`/fhir/Observation?_id=${obs}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
  expect(updated.status).toBe(201);
  expect(updated.body.id).not.toBe(obs);
  expect((await clin(A).get(`/fhir/Observation/${obs}`)).body.meta.versionId).toBe('1');
  // Conditional delete: "nothing matched", and A's Observation survives.
  expect((await clin(B).delete(`/fhir/Observation?_id=${obs}`)).status).toBe(200);
  expect((await clin(A).get(`/fhir/Observation/${obs}`)).status).toBe(200);
});

test('a chained conditional on A\'s client code matches nothing', async () => {
  const res = await clin(B).delete(`/fhir/Observation?subject:Patient.identifier=${CLIENT_CODE}|${code}`);
  expect(res.status).toBe(200);
  expect((await clin(A).get(`/fhir/Observation/${obs}`)).status).toBe(200);
});

test('a transaction with a conditional reference to A\'s client fails exactly as for an unknown client', async () => {
  const bundle = (identifier: string) => ({
    resourceType: 'Bundle', type: 'transaction',
    entry: [{ resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient?identifier=${CLIENT_CODE}|${identifier}` } }, request: { method: 'POST', url: 'Observation' } }],
  });
  const known = await clin(B).post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle(code)));
  const unknown = await clin(B).post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle('0000-0000-000')));
  expect(known.status).toBe(unknown.status);
  expect(JSON.stringify(known.body).split(code).join('CODE')).toBe(JSON.stringify(unknown.body).split('0000-0000-000').join('CODE'));
  noTrace(known.body);
});

test('writing about A\'s client answers as for a client that does not exist', async () => {
  const body = (id: string) => JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${id}` } });
  const known = await clin(B).post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(body(patient));
  const absent = await clin(B).post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(body('00000000-0000-4000-8000-000000000000'));
  expect(known.status).toBe(absent.status);
  expect(known.body.issue[0].code).toBe(absent.body.issue[0].code);
});

test('update, patch and delete of A\'s Observation answer as for an absent one', async () => {
  const absent = '00000000-0000-4000-8000-000000000001';
  const put = (id: string) => clin(B).put(`/fhir/Observation/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Observation', id, status: 'final', code: { text: 'x' } }));
  expect((await put(obs)).status).toBe((await put(absent)).status);
  const patch = (id: string) => clin(B).patch(`/fhir/Observation/${id}`).set('Content-Type', 'application/json-patch+json').send(JSON.stringify([{ op: 'replace', path: '/status', value: 'amended' }]));
  expect((await patch(obs)).status).toBe((await patch(absent)).status);
  const del = async (id: string) => (await clin(B).delete(`/fhir/Observation/${id}`)).body.issue[0].diagnostics.split(id).join('ID');
  expect(await del(obs)).toBe(await del(absent));
  expect((await clin(A).get(`/fhir/Observation/${obs}`)).body.meta.versionId).toBe('1');
});

test('a tampered or forged paging cursor is a 400 or a page of B\'s own data, never A\'s', async () => {
  const forged = (c: object) => Buffer.from(JSON.stringify(c)).toString('base64url');
  for (const cursor of ['not-a-cursor', forged({ seq: 0 }), forged({ seq: Number.MAX_SAFE_INTEGER, keys: [] }), forged({ seq: 1, keys: ['zzz'] })]) {
    const res = await clin(B).get(`/fhir/Observation?_sort=-_lastUpdated&_cursor=${cursor}`);
    expect([200, 400]).toContain(res.status);
    noTrace(res.body);
    const hist = await clin(B).get(`/fhir/Observation/_history?_cursor=${cursor}`);
    expect([200, 400]).toContain(hist.status);
    noTrace(hist.body);
  }
});

// KNOWN BUG (left open: src/store/cursor.ts is not this review's to change). decodeCursor accepts
// any JSON in `keys`; an object there reaches the SQL driver as a bind value and the request
// fails with 500 instead of 400. No data leaks (the 500 carries only the request id), but a
// forged cursor should be refused like any other. jest reports this test as passing only while
// the bug exists; once decodeCursor checks each key is a string, number or null, turn it into test().
test('a cursor whose sort keys are objects answers 400, not 500', async () => {
  const cursor = Buffer.from(JSON.stringify({ seq: 1, keys: [{ a: 1 }] })).toString('base64url');
  expect((await clin(B).get(`/fhir/Observation?_sort=-_lastUpdated&_cursor=${cursor}`)).status).toBe(400);
});
