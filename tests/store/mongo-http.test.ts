/**
 * HTTP flows on the MongoDB store through the same app helper as the SQLite suites (CRUD,
 * If-Match, search, transaction Bundle). Skips with one line when no mongod is available.
 */
import { FHIR_JSON, type TestApp, startTestApp, BASE, testRegistry } from '../helpers/app';
import { describeWithMongo, openTestMongoStore } from '../helpers/mongo';
import { createIndexer } from '../../src/search/indexer';

describeWithMongo('HTTP on the MongoDB store', (uri) => {
  let t: TestApp;
  beforeAll(async () => {
    t = startTestApp({}, await openTestMongoStore(uri(), createIndexer(testRegistry(), BASE)));
    await t.linkcare.ready;
  });
  afterAll(() => t.close());

  test('create, read, If-Match update, search, delete', async () => {
    const created = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name: 'Clínica Norte' }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await t.http.get(`/fhir/Organization/${id}`)).body.name).toBe('Clínica Norte');
    const stale = await t.http.put(`/fhir/Organization/${id}`).set('Content-Type', FHIR_JSON).set('If-Match', 'W/"9"').send(JSON.stringify({ resourceType: 'Organization', id, name: 'x' }));
    expect(stale.status).toBe(412);
    const ok = await t.http.put(`/fhir/Organization/${id}`).set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"').send(JSON.stringify({ resourceType: 'Organization', id, name: 'Clínica Sul' }));
    expect(ok.status).toBe(200);
    const found = await t.http.get('/fhir/Organization?name=clinica');
    expect(found.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([id]);
    expect((await t.http.delete(`/fhir/Organization/${id}`)).status).toBe(204);
    expect((await t.http.get(`/fhir/Organization/${id}`)).status).toBe(410);
  });

  test('a transaction Bundle commits all or nothing', async () => {
    const bundle = {
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:1', resource: { resourceType: 'Organization', name: 'A' }, request: { method: 'POST', url: 'Organization' } },
        { resource: { resourceType: 'Organization', name: 'B' }, request: { method: 'PUT', url: 'Organization/missing', ifMatch: 'W/"3"' } },
      ],
    };
    const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect((await t.http.get('/fhir/Organization?name=a&_summary=count')).body.total).toBe(0);
  });
});
