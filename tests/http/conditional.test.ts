/** Conditional create, update and delete (http://hl7.org/fhir/R4/http.html#ccreate). */
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

let t: TestApp;
beforeEach(() => {
  t = startTestApp();
});
afterEach(() => t.close());

const org = { resourceType: 'Organization', name: 'Drop-in centre' };

test('If-None-Exist: 50 parallel identical conditional creates make one resource', async () => {
  const first = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify(org));
  const id = first.body.id as string;
  const results = await Promise.all(
    Array.from({ length: 50 }, () =>
      t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).set('If-None-Exist', `_id=${id}`).send(JSON.stringify(org)),
    ),
  );
  expect(results.every((r) => r.status === 200)).toBe(true);
  expect(results.every((r) => r.body.id === id)).toBe(true);
  expect((await t.http.get('/fhir/Organization')).body.total).toBe(1);
});

test('If-None-Exist: parallel creates racing on a not-yet-existing match make exactly one resource', async () => {
  const cutoff = new Date(Date.now() - 60_000).toISOString();
  const results = await Promise.all(
    Array.from({ length: 50 }, () =>
      t.http
        .post('/fhir/Organization')
        .set('Content-Type', FHIR_JSON)
        .set('If-None-Exist', `_lastUpdated=gt${cutoff}`)
        .send(JSON.stringify(org)),
    ),
  );
  expect(results.filter((r) => r.status === 201)).toHaveLength(1);
  expect(results.filter((r) => r.status === 200)).toHaveLength(49);
  expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
  expect((await t.http.get('/fhir/Organization')).body.total).toBe(1);
});

test('If-None-Exist with several matches → 412; with an unknown parameter → 400', async () => {
  await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify(org));
  await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify(org));
  const many = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).set('If-None-Exist', '_lastUpdated=gt2000').send(JSON.stringify(org));
  expect(many.status).toBe(412);
  const unknown = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).set('If-None-Exist', 'nonsense=1').send(JSON.stringify(org));
  expect(unknown.status).toBe(400);
  expect(unknown.body.issue[0].expression).toEqual(['nonsense']);
  expect((await t.http.get('/fhir/Organization')).body.total).toBe(2);
});

test('conditional update: no match creates, one match updates, several → 412', async () => {
  const created = await t.http.put('/fhir/Organization?_id=nothing-here').set('Content-Type', FHIR_JSON).send(JSON.stringify(org));
  expect(created.status).toBe(201);
  const id = created.body.id;
  const updated = await t.http.put(`/fhir/Organization?_id=${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...org, name: 'Renamed' }));
  expect(updated.status).toBe(200);
  expect(updated.body).toMatchObject({ id, name: 'Renamed', meta: { versionId: '2' } });
  await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify(org));
  const many = await t.http.put('/fhir/Organization?_lastUpdated=gt2000').set('Content-Type', FHIR_JSON).send(JSON.stringify(org));
  expect(many.status).toBe(412);
  const wrongId = await t.http.put(`/fhir/Organization?_id=${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...org, id: 'other' }));
  expect(wrongId.status).toBe(400);
});

test('conditional delete: one match deleted, none is fine, several → 412', async () => {
  const a = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify(org));
  await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify(org));
  const one = await t.http.delete(`/fhir/Organization?_id=${a.body.id}`);
  expect(one.status).toBe(200);
  expect((await t.http.get(`/fhir/Organization/${a.body.id}`)).status).toBe(410);
  const none = await t.http.delete('/fhir/Organization?_id=missing');
  expect(none.status).toBe(200);
  await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify(org));
  const many = await t.http.delete('/fhir/Organization?_lastUpdated=gt2000');
  expect(many.status).toBe(412);
  expect((await t.http.delete('/fhir/Organization')).status).toBe(400);
});
