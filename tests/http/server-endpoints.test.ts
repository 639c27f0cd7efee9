/** metadata, health endpoints and request logging. */
import { BASE, FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { SUPPORTED_TYPES } from '../../src/fhir/resource-types';

let t: TestApp;
beforeEach(() => {
  t = startTestApp();
});
afterEach(() => t.close());

test('CapabilityStatement lists every supported type with its real interactions', async () => {
  const res = await t.http.get('/fhir/metadata');
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance' });
  const resources = res.body.rest[0].resource as { type: string; interaction: { code: string }[]; updateCreate: boolean }[];
  expect(resources.map((r) => r.type)).toEqual([...SUPPORTED_TYPES]);
  const audit = resources.find((r) => r.type === 'AuditEvent')!;
  expect(audit.interaction.map((i) => i.code)).not.toContain('create');
  const org = resources.find((r) => r.type === 'Organization')!;
  expect(org.updateCreate).toBe(true);
  expect(resources.find((r) => r.type === 'Observation')!.updateCreate).toBe(false);
  expect(res.body.rest[0].interaction.map((i: { code: string }) => i.code)).toEqual(expect.arrayContaining(['transaction', 'batch']));
  expect(res.body.rest[0].security.service[0].coding[0].code).toBe('OAuth');
});

test('every search parameter the CapabilityStatement lists for SearchParameter and OperationDefinition works', async () => {
  const resources = (await t.http.get('/fhir/metadata')).body.rest[0].resource as { type: string; interaction: { code: string }[]; searchParam: { name: string }[] }[];
  for (const type of ['SearchParameter', 'OperationDefinition']) {
    const entry = resources.find((r) => r.type === type)!;
    expect(entry.interaction.map((i) => i.code)).toEqual(['read', 'search-type']);
    for (const { name } of entry.searchParam) {
      const res = await t.http.get(`/fhir/${type}?${name}=x`).set('Prefer', 'handling=strict');
      expect([type, name, res.status]).toEqual([type, name, 200]);
    }
  }
});

test('healthz and readyz', async () => {
  expect((await t.http.get('/healthz')).body).toEqual({ status: 'ok' });
  expect((await t.http.get('/readyz')).status).toBe(200);
  await t.store.close();
  expect((await t.http.get('/readyz')).status).toBe(503);
});

test('security headers from helmet and a request id on every response', async () => {
  const res = await t.http.get('/fhir/metadata');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
});

test('one log line per request with id, method, route, status and duration; never bodies or query values', async () => {
  await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name: 'Secret Name Clinic' }));
  const created = await t.http.get('/fhir/Organization?name=SecretQuery');
  expect(created.status).toBe(200);
  const lines = t.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatchObject({ method: 'POST', route: '/fhir/Organization', status: 201 });
  expect(typeof lines[0].ms).toBe('number');
  expect(typeof lines[0].requestId).toBe('string');
  const all = t.logs.join('\n');
  expect(all).not.toContain('Secret Name Clinic');
  expect(all).not.toContain('SecretQuery');
});

test('routes in the log hide ids', async () => {
  const r = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name: 'x' }));
  await t.http.get(`/fhir/Organization/${r.body.id}/_history/1`);
  const last = JSON.parse(t.logs[t.logs.length - 1]!);
  expect(last.route).toBe('/fhir/Organization/:id/_history/:vid');
});

test('SearchParameter and OperationDefinition are readable and searchable, read-only', async () => {
  const sp = await t.http.get('/fhir/SearchParameter/Task-deadline');
  expect(sp.status).toBe(200);
  expect(sp.body).toMatchObject({ resourceType: 'SearchParameter', code: 'deadline', base: ['Task'] });
  const official = await t.http.get('/fhir/SearchParameter?base=Observation&code=code');
  expect(official.body.total).toBe(1);
  expect(official.body.entry[0].resource.url).toBe('http://hl7.org/fhir/SearchParameter/clinical-code');
  expect((await t.http.get('/fhir/SearchParameter/nope')).status).toBe(404);
  const op = await t.http.get('/fhir/OperationDefinition/Patient-everything');
  expect(op.body.code).toBe('everything');
  const meta = await t.http.get('/fhir/metadata');
  expect(meta.body.rest[0].operation).toContainEqual({ name: 'everything', definition: op.body.url });
  expect((await t.http.post('/fhir/SearchParameter').set('Content-Type', FHIR_JSON).send('{"resourceType":"SearchParameter"}')).status).toBe(405);
  expect((await t.http.get('/fhir/$nothing')).status).toBe(404);
});

test('SearchParameter and OperationDefinition: the role check and the audit trail as for any resource', async () => {
  expect((await t.as(['auditor']).get('/fhir/SearchParameter?_count=1')).status).toBe(403);
  expect((await t.as(['auditor']).get('/fhir/OperationDefinition/Patient-everything')).status).toBe(403);
  const reads = async () => (await t.as(['auditor']).get('/fhir/AuditEvent?entity=OperationDefinition/Patient-everything&subtype=read&outcome=0')).body.total as number;
  const before = await reads();
  expect((await t.as(['outreach']).get('/fhir/SearchParameter?base=Task&_count=1')).status).toBe(200);
  expect((await t.as(['outreach']).get('/fhir/OperationDefinition/Patient-everything')).status).toBe(200);
  expect(await reads()).toBe(before + 1);
  const searches = await t.as(['auditor']).get('/fhir/AuditEvent?subtype=search-type&_count=100');
  expect(JSON.stringify(searches.body)).toContain('SearchParameter');
});

test('SearchParameter and OperationDefinition searches page like any search, with _summary, _elements and unknown parameters reported', async () => {
  const seen: string[] = [];
  let url: string | undefined = '/fhir/SearchParameter?base=Observation&_count=7';
  let total = 0;
  while (url) {
    const page = await t.http.get(url);
    expect(page.status).toBe(200);
    total = page.body.total;
    expect(page.body.link[0]).toMatchObject({ relation: 'self' });
    expect(page.body.link[0].url).toContain('base=Observation');
    seen.push(...(page.body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id));
    const next = page.body.link.find((l: { relation: string }) => l.relation === 'next')?.url as string | undefined;
    url = next?.slice(BASE.length - '/fhir'.length);
  }
  expect(total).toBeGreaterThan(20);
  expect(seen).toHaveLength(total);
  expect(new Set(seen).size).toBe(total);
  const count = await t.http.get('/fhir/OperationDefinition?_summary=count');
  expect(count.body.total).toBeGreaterThan(0);
  expect(count.body.entry).toBeUndefined();
  const slim = await t.http.get('/fhir/SearchParameter?code=code&base=Observation&_elements=url');
  expect(Object.keys(slim.body.entry[0].resource).sort()).toEqual(expect.arrayContaining(['id', 'resourceType', 'url']));
  expect(slim.body.entry[0].resource.expression).toBeUndefined();
  const lenient = await t.http.get('/fhir/SearchParameter?code=code&nonsense=1');
  expect(lenient.status).toBe(200);
  expect(lenient.body.entry.at(-1)).toMatchObject({ search: { mode: 'outcome' } });
  expect((await t.http.get('/fhir/SearchParameter?nonsense=1').set('Prefer', 'handling=strict')).status).toBe(400);
  // _count=0 pages nothing, so there is no next page to follow.
  const none = await t.http.get('/fhir/SearchParameter?_count=0');
  expect(none.body.total).toBeGreaterThan(0);
  expect(none.body.link.map((l: { relation: string }) => l.relation)).toEqual(['self']);
});
