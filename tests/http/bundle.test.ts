/** batch and transaction Bundles (http://hl7.org/fhir/R4/http.html#transaction). */
import { randomUUID } from 'node:crypto';
import { BASE, FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

let t: TestApp;
beforeEach(() => {
  t = startTestApp();
});
afterEach(() => t.close());

const post = (body: object) => t.http.post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
const count = async (type: string) => (await t.http.get(`/fhir/${type}?_summary=count`)).body.total as number;

describe('transaction', () => {
  test('resolves urn:uuid fullUrls across entries and answers per entry', async () => {
    const orgUrn = `urn:uuid:${randomUUID()}`;
    const patUrn = `urn:uuid:${randomUUID()}`;
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: patUrn, resource: { resourceType: 'Patient', gender: 'female', managingOrganization: { reference: orgUrn } }, request: { method: 'POST', url: 'Patient' } },
        { fullUrl: orgUrn, resource: { resourceType: 'Organization', name: 'Clinic' }, request: { method: 'POST', url: 'Organization' } },
        {
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'vl' }, subject: { reference: patUrn } },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    const [p, o, ob] = res.body.entry;
    expect(p.response.status).toBe('201 Created');
    expect(p.response.etag).toBe('W/"1"');
    expect(p.response.location).toMatch(new RegExp(`^${BASE}/Patient/[0-9a-f-]{36}/_history/1$`));
    expect(p.resource.managingOrganization.reference).toBe(`Organization/${o.resource.id}`);
    expect(ob.resource.subject.reference).toBe(`Patient/${p.resource.id}`);
    const stored = await t.http.get(`/fhir/Patient/${p.resource.id}`);
    expect(stored.body.managingOrganization.reference).toBe(`Organization/${o.resource.id}`);
  });

  test('one failing entry leaves nothing stored and names the entry', async () => {
    const before = (await t.http.get('/fhir/_history?_count=1')).body.total;
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Organization', name: 'A' }, request: { method: 'POST', url: 'Organization' } },
        { resource: { resourceType: 'Patient', gender: 'not-a-gender!' }, request: { method: 'POST', url: 'Patient' } },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].expression[0]).toBe('Bundle.entry[1].resource.gender');
    expect(await count('Organization')).toBe(0);
    expect((await t.http.get('/fhir/_history?_count=1')).body.total).toBe(before);
  });

  test('a stale ifMatch in a later entry rolls back earlier updates', async () => {
    const a = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name: 'A' }));
    const id = a.body.id;
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Organization', name: 'B' }, request: { method: 'POST', url: 'Organization' } },
        { resource: { resourceType: 'Organization', id, name: 'A2' }, request: { method: 'PUT', url: `Organization/${id}`, ifMatch: 'W/"9"' } },
      ],
    });
    expect(res.status).toBe(412);
    expect(await count('Organization')).toBe(1);
    expect((await t.http.get(`/fhir/Organization/${id}`)).body.name).toBe('A');
  });

  test('processes DELETE, POST, PUT, GET in the order the spec requires', async () => {
    const a = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name: 'Old' }));
    const id = a.body.id;
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'GET', url: `Organization?_id=${id}` } },
        { resource: { resourceType: 'Organization', id: 'dir-1', name: 'Directory' }, request: { method: 'PUT', url: 'Organization/dir-1' } },
        { resource: { resourceType: 'Organization', name: 'New' }, request: { method: 'POST', url: 'Organization' } },
        { request: { method: 'DELETE', url: `Organization/${id}` } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.entry[0].resource.total).toBe(0); // the GET ran after the DELETE
    expect(res.body.entry[1].response.status).toBe('201 Created');
    expect(res.body.entry[2].response.status).toBe('201 Created');
    expect(res.body.entry[3].response.status).toBe('200 OK');
  });

  test('conditional create and conditional references inside a transaction', async () => {
    const existing = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name: 'Clinic' }));
    const id = existing.body.id;
    const urn = `urn:uuid:${randomUUID()}`;
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: urn, resource: { resourceType: 'Organization', name: 'Clinic' }, request: { method: 'POST', url: 'Organization', ifNoneExist: `_id=${id}` } },
        { resource: { resourceType: 'Patient', managingOrganization: { reference: urn } }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', managingOrganization: { reference: `Organization?_id=${id}` } }, request: { method: 'POST', url: 'Patient' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.entry[0].response.status).toBe('200 OK');
    expect(res.body.entry[1].resource.managingOrganization.reference).toBe(`Organization/${id}`);
    expect(res.body.entry[2].resource.managingOrganization.reference).toBe(`Organization/${id}`);
    expect(await count('Organization')).toBe(1);
    const unresolved = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Patient', managingOrganization: { reference: 'Organization?_id=missing' } }, request: { method: 'POST', url: 'Patient' } }],
    });
    expect(unresolved.status).toBe(412);
  });

  test('the same resource twice in one transaction is refused', async () => {
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Organization', id: 'x', name: 'a' }, request: { method: 'PUT', url: 'Organization/x' } },
        { resource: { resourceType: 'Organization', id: 'x', name: 'b' }, request: { method: 'PUT', url: 'Organization/x' } },
      ],
    });
    expect(res.status).toBe(400);
    expect(await count('Organization')).toBe(0);
  });

  test('PATCH entries carry a Binary JSON Patch', async () => {
    const a = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name: 'A' }));
    const data = Buffer.from(JSON.stringify([{ op: 'replace', path: '/name', value: 'B' }])).toString('base64');
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data }, request: { method: 'PATCH', url: `Organization/${a.body.id}` } }],
    });
    expect(res.status).toBe(200);
    expect(res.body.entry[0].resource.name).toBe('B');
  });
});

describe('batch', () => {
  test('entries succeed or fail independently, with per-entry outcomes', async () => {
    const res = await post({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: { resourceType: 'Organization', name: 'ok' }, request: { method: 'POST', url: 'Organization' } },
        { resource: { resourceType: 'Organization', name: 42 }, request: { method: 'POST', url: 'Organization' } },
        { request: { method: 'GET', url: 'Organization/missing' } },
        { request: { method: 'GET', url: 'Organization?_summary=count' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    const [ok, bad, missing, search] = res.body.entry;
    expect(ok.response.status).toBe('201 Created');
    expect(bad.response.status).toBe('400');
    expect(bad.response.outcome.issue[0].expression).toEqual(['Bundle.entry[1].resource.name']);
    expect(missing.response.status).toBe('404');
    expect(search.resource.total).toBe(1);
    expect(await count('Organization')).toBe(1);
  });

  test('a Bundle of the wrong type or shape is a 400', async () => {
    expect((await post({ resourceType: 'Bundle', type: 'collection' })).status).toBe(400);
    expect((await post({ resourceType: 'Patient' })).status).toBe(400);
    expect((await post({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'TRACE', url: 'Patient' } }] })).body.entry[0].response.status).toBe('400');
  });
});

test('on a store without transactions (standalone MongoDB in development) a transaction Bundle is 501 and nothing is written', async () => {
  const plain = startTestApp();
  const noTx = startTestApp({}, { ...plain.store, supportsTransactions: false });
  try {
    const res = await noTx.http.post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify({
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ resource: { resourceType: 'Organization', name: 'A' }, request: { method: 'POST', url: 'Organization' } }],
    }));
    expect(res.status).toBe(501);
    expect(res.body.issue[0].code).toBe('not-supported');
    expect((await noTx.http.get('/fhir/Organization?name=A&_summary=count')).body.total).toBe(0);
  } finally {
    await noTx.linkcare.stop();
    await plain.close();
  }
});


test('Prefer: return= shapes each entry of a transaction as it shapes a single write', async () => {
  const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Organization', name: 'Prefer clinic' }, request: { method: 'POST', url: 'Organization' } }] };
  const send = (prefer?: string) => {
    const r = t.http.post('/fhir').set('Content-Type', FHIR_JSON);
    return (prefer ? r.set('Prefer', prefer) : r).send(JSON.stringify(bundle));
  };
  const full = (await send()).body.entry[0];
  expect(full.resource.name).toBe('Prefer clinic');
  expect(full.response.outcome).toBeUndefined();
  const minimal = (await send('return=minimal')).body.entry[0];
  expect(minimal.resource).toBeUndefined();
  expect(minimal.response.location).toMatch(/Organization\//);
  const outcome = (await send('return=OperationOutcome')).body.entry[0];
  expect(outcome.resource).toBeUndefined();
  expect(outcome.response.outcome).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'information' }] });
});
