/**
 * If-Match on every write, conditional ones included (http://hl7.org/fhir/R4/http.html#concurrency,
 * RFC 9110 §13.1.1), and the Allow header of a 405 (RFC 9110 §15.5.6).
 */
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

let t: TestApp;
beforeEach(() => {
  t = startTestApp();
});
afterEach(() => t.close());

const json = (body: object) => JSON.stringify(body);
const bundle = (type: 'batch' | 'transaction', entry: object[]) => t.http.post('/fhir').set('Content-Type', FHIR_JSON).send(json({ resourceType: 'Bundle', type, entry }));
const orgCount = async () => (await t.http.get('/fhir/Organization?_summary=count')).body.total as number;

/** Organization "Beta" at version 2. */
async function betaAtV2(): Promise<string> {
  const created = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(json({ resourceType: 'Organization', name: 'Beta' }));
  const id = created.body.id as string;
  const v2 = await t.http.put(`/fhir/Organization/${id}`).set('Content-Type', FHIR_JSON).send(json({ resourceType: 'Organization', id, name: 'Beta', alias: ['v2'] }));
  expect(v2.body.meta.versionId).toBe('2');
  return id;
}

const current = async (id: string) => (await t.http.get(`/fhir/Organization/${id}`)).body;

describe('conditional update honours If-Match', () => {
  test('a stale If-Match is 412 and writes nothing; the current one updates', async () => {
    const id = await betaAtV2();
    const stale = await t.http.put('/fhir/Organization?name:exact=Beta').set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"').send(json({ resourceType: 'Organization', name: 'Beta', alias: ['lost'] }));
    expect(stale.status).toBe(412);
    expect(stale.body.resourceType).toBe('OperationOutcome');
    expect((await current(id)).meta.versionId).toBe('2');
    const ok = await t.http.put('/fhir/Organization?name:exact=Beta').set('Content-Type', FHIR_JSON).set('If-Match', 'W/"2"').send(json({ resourceType: 'Organization', name: 'Beta', alias: ['v3'] }));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id, alias: ['v3'], meta: { versionId: '3' } });
  });

  test('If-Match when nothing matches is 412, not a create', async () => {
    const res = await t.http.put('/fhir/Organization?name:exact=Nobody').set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"').send(json({ resourceType: 'Organization', name: 'Nobody' }));
    expect(res.status).toBe(412);
    expect(await orgCount()).toBe(0);
  });

  test('batch entries: request.ifMatch is checked against the matched resource', async () => {
    const id = await betaAtV2();
    const res = await bundle('batch', [
      { resource: { resourceType: 'Organization', name: 'Beta', alias: ['lost'] }, request: { method: 'PUT', url: 'Organization?name:exact=Beta', ifMatch: 'W/"1"' } },
      { resource: { resourceType: 'Organization', name: 'Beta', alias: ['v3'] }, request: { method: 'PUT', url: 'Organization?name:exact=Beta', ifMatch: 'W/"2"' } },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.entry[0].response.status).toBe('412');
    expect(res.body.entry[1].response.status).toBe('200 OK');
    expect(res.body.entry[1].resource.id).toBe(id);
    expect(await orgCount()).toBe(1);
    expect(await current(id)).toMatchObject({ alias: ['v3'], meta: { versionId: '3' } });
  });

  test('transaction entries: a stale request.ifMatch fails the whole transaction', async () => {
    const id = await betaAtV2();
    const res = await bundle('transaction', [
      { resource: { resourceType: 'Organization', name: 'Other' }, request: { method: 'POST', url: 'Organization' } },
      { resource: { resourceType: 'Organization', name: 'Beta', alias: ['lost'] }, request: { method: 'PUT', url: 'Organization?name:exact=Beta', ifMatch: 'W/"1"' } },
    ]);
    expect(res.status).toBe(412);
    expect(await orgCount()).toBe(1);
    expect((await current(id)).meta.versionId).toBe('2');
    const none = await bundle('transaction', [
      { resource: { resourceType: 'Organization', name: 'Nobody' }, request: { method: 'PUT', url: 'Organization?name:exact=Nobody', ifMatch: 'W/"1"' } },
    ]);
    expect(none.status).toBe(412);
    expect(await orgCount()).toBe(1);
  });

  test('conditional delete: a stale If-Match is 412 and deletes nothing', async () => {
    const id = await betaAtV2();
    expect((await t.http.delete('/fhir/Organization?name:exact=Beta').set('If-Match', 'W/"1"')).status).toBe(412);
    expect((await t.http.get(`/fhir/Organization/${id}`)).status).toBe(200);
    expect((await t.http.delete('/fhir/Organization?name:exact=Beta').set('If-Match', 'W/"2"')).status).toBe(200);
    expect((await t.http.get(`/fhir/Organization/${id}`)).status).toBe(410);
  });
});

describe('If-Match: * matches any current version', () => {
  test('update, patch and delete proceed when the resource exists', async () => {
    const id = await betaAtV2();
    const put = await t.http.put(`/fhir/Organization/${id}`).set('Content-Type', FHIR_JSON).set('If-Match', '*').send(json({ resourceType: 'Organization', id, name: 'Beta' }));
    expect(put.status).toBe(200);
    expect(put.body.meta.versionId).toBe('3');
    const patch = await t.http.patch(`/fhir/Organization/${id}`).set('Content-Type', 'application/json-patch+json').set('If-Match', '*').send(json([{ op: 'replace', path: '/name', value: 'Gamma' }]));
    expect(patch.status).toBe(200);
    expect(patch.body.name).toBe('Gamma');
    const cond = await t.http.put('/fhir/Organization?name:exact=Gamma').set('Content-Type', FHIR_JSON).set('If-Match', '*').send(json({ resourceType: 'Organization', name: 'Gamma', alias: ['x'] }));
    expect(cond.status).toBe(200);
    expect(cond.body.meta.versionId).toBe('5');
    expect((await t.http.delete(`/fhir/Organization/${id}`).set('If-Match', '*')).status).toBe(200);
    expect((await t.http.get(`/fhir/Organization/${id}`)).status).toBe(410);
  });

  test('412 when there is no current resource: no update-as-create, no conditional create, no delete', async () => {
    // Organization ids are the client's (CLIENT_ID_TYPES), so without If-Match this PUT would create.
    const create = await t.http.put('/fhir/Organization/new-one').set('Content-Type', FHIR_JSON).set('If-Match', '*').send(json({ resourceType: 'Organization', id: 'new-one', name: 'New' }));
    expect(create.status).toBe(412);
    const cond = await t.http.put('/fhir/Organization?name:exact=New').set('Content-Type', FHIR_JSON).set('If-Match', '*').send(json({ resourceType: 'Organization', name: 'New' }));
    expect(cond.status).toBe(412);
    expect(await orgCount()).toBe(0);
    const del = await t.http.delete('/fhir/Organization/new-one').set('If-Match', '*');
    expect(del.status).toBe(412);
    const entry = await bundle('batch', [{ request: { method: 'DELETE', url: 'Organization/new-one', ifMatch: '*' } }]);
    expect(entry.body.entry[0].response.status).toBe('412');
    // A version is no different from `*` here: nothing current to match (RFC 9110 §13.1.1).
    expect((await t.http.delete('/fhir/Organization/new-one').set('If-Match', 'W/"1"')).status).toBe(412);
    expect((await t.http.delete('/fhir/Organization/new-one')).status).toBe(200);
  });

  test('a deleted resource has no current version: If-Match: * is 412', async () => {
    const id = await betaAtV2();
    await t.http.delete(`/fhir/Organization/${id}`);
    const put = await t.http.put(`/fhir/Organization/${id}`).set('Content-Type', FHIR_JSON).set('If-Match', '*').send(json({ resourceType: 'Organization', id, name: 'Back' }));
    expect(put.status).toBe(412);
    expect((await t.http.get(`/fhir/Organization/${id}`)).status).toBe(410);
  });

  test('a malformed If-Match is still 400', async () => {
    const id = await betaAtV2();
    const res = await t.http.put(`/fhir/Organization/${id}`).set('Content-Type', FHIR_JSON).set('If-Match', '**').send(json({ resourceType: 'Organization', id, name: 'Beta' }));
    expect(res.status).toBe(400);
  });
});

describe('405 carries Allow', () => {
  const allowOf = (res: { headers: Record<string, string> }) => (res.headers.allow ?? '').split(/,\s*/).filter(Boolean).sort();

  test('conditional PATCH is not supported: Allow lists what the type URL accepts', async () => {
    const res = await t.http.patch('/fhir/Organization?name=x').set('Content-Type', 'application/json-patch+json').send(json([{ op: 'remove', path: '/alias' }]));
    expect(res.status).toBe(405);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(allowOf(res)).toEqual(['DELETE', 'GET', 'HEAD', 'POST', 'PUT']);
  });

  test('instance, history, search, server-owned types and operations', async () => {
    const instance = await t.http.post('/fhir/Patient/abc').set('Content-Type', FHIR_JSON).send('{}');
    expect(instance.status).toBe(405);
    expect(allowOf(instance)).toEqual(['DELETE', 'GET', 'HEAD', 'PATCH', 'PUT']);
    const history = await t.http.delete('/fhir/Patient/abc/_history');
    expect(allowOf(history)).toEqual(['GET', 'HEAD']);
    const search = await t.http.get('/fhir/Patient/_search');
    expect(search.status).toBe(405);
    expect(allowOf(search)).toEqual(['POST']);
    const audit = await t.http.post('/fhir/AuditEvent').set('Content-Type', FHIR_JSON).send(json({ resourceType: 'AuditEvent' }));
    expect(audit.status).toBe(405);
    expect(allowOf(audit)).toEqual(['GET', 'HEAD']);
    const auditPatch = await t.http.patch('/fhir/AuditEvent?type=x').set('Content-Type', 'application/json-patch+json').send('[]');
    expect(allowOf(auditPatch)).toEqual(['GET', 'HEAD']);
    const erase = await t.http.get('/fhir/Patient/abc/$erase');
    expect(erase.status).toBe(405);
    expect(allowOf(erase)).toEqual(['POST']);
    const metadata = await t.http.delete('/fhir/metadata');
    expect(allowOf(metadata)).toEqual(['GET', 'HEAD']);
  });
});
