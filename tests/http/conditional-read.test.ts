/** Conditional read with If-None-Match and If-Modified-Since (http://hl7.org/fhir/R4/http.html#cread). */
import type { AuditEvent } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

let t: TestApp;
beforeEach(() => {
  t = startTestApp();
});
afterEach(() => t.close());

async function createOrganization(): Promise<{ id: string; lastModified: string }> {
  const res = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send('{"resourceType":"Organization","name":"Drop-in centre"}');
  expect(res.status).toBe(201);
  return { id: res.body.id, lastModified: res.headers['last-modified'] };
}

const inSeconds = (httpDate: string, seconds: number) => new Date(Date.parse(httpDate) + seconds * 1000).toUTCString();

test('If-None-Match naming the current version → 304 with its ETag and no body; any other version → 200', async () => {
  const { id } = await createOrganization();
  for (const tag of ['W/"1"', '"1"', 'W/"7", W/"1"', '*']) {
    const res = await t.http.get(`/fhir/Organization/${id}`).set('If-None-Match', tag);
    expect({ tag, status: res.status }).toEqual({ tag, status: 304 });
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.text).toBe('');
  }
  const other = await t.http.get(`/fhir/Organization/${id}`).set('If-None-Match', 'W/"2"');
  expect(other.status).toBe(200);
  expect(other.body).toMatchObject({ id, name: 'Drop-in centre' });
});

test('after an update the old ETag gets the new version', async () => {
  const { id } = await createOrganization();
  await t.http.put(`/fhir/Organization/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', id, name: 'Renamed' }));
  const res = await t.http.get(`/fhir/Organization/${id}`).set('If-None-Match', 'W/"1"');
  expect(res.status).toBe(200);
  expect(res.headers.etag).toBe('W/"2"');
  expect(res.body.name).toBe('Renamed');
});

test('If-Modified-Since: 304 at or after Last-Modified, 200 before it or when the date is not a date', async () => {
  const { id, lastModified } = await createOrganization();
  const get = (since: string) => t.http.get(`/fhir/Organization/${id}`).set('If-Modified-Since', since);
  expect((await get(lastModified)).status).toBe(304);
  expect((await get(inSeconds(lastModified, 60))).status).toBe(304);
  const older = await get(inSeconds(lastModified, -60));
  expect(older.status).toBe(200);
  expect(older.body.id).toBe(id);
  expect((await get('yesterday-ish')).status).toBe(200);
});

test('If-None-Match decides when both are sent', async () => {
  const { id, lastModified } = await createOrganization();
  const res = await t.http
    .get(`/fhir/Organization/${id}`)
    .set('If-None-Match', 'W/"9"')
    .set('If-Modified-Since', inSeconds(lastModified, 60));
  expect(res.status).toBe(200);
});

test('no 304 for what the caller may not see or what is gone: 404 and 410 as without the header', async () => {
  const created = await t.as(['clinician'], 'org-a').post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType":"Patient","gender":"female"}');
  expect(created.status).toBe(201);
  const hidden = await t.as(['clinician'], 'org-b').get(`/fhir/Patient/${created.body.id}`).set('If-None-Match', '*');
  expect(hidden.status).toBe(404);
  expect(hidden.body.resourceType).toBe('OperationOutcome');
  const { id } = await createOrganization();
  expect((await t.http.delete(`/fhir/Organization/${id}`)).status).toBeLessThan(300);
  expect((await t.http.get(`/fhir/Organization/${id}`).set('If-None-Match', '*')).status).toBe(410);
});

test('a 304 is audited as a read', async () => {
  const { id } = await createOrganization();
  const reads = async (): Promise<AuditEvent[]> => {
    const res = await t.as(['auditor']).get(`/fhir/AuditEvent?subtype=read&_count=100`);
    expect(res.status).toBe(200);
    return (res.body.entry ?? []).map((e: { resource: AuditEvent }) => e.resource).filter((e: AuditEvent) => e.entity?.some((x) => x.what?.reference === `Organization/${id}`));
  };
  expect(await reads()).toHaveLength(0);
  expect((await t.http.get(`/fhir/Organization/${id}`).set('If-None-Match', 'W/"1"')).status).toBe(304);
  const after = await reads();
  expect(after).toHaveLength(1);
  expect(after[0]!.outcome).toBe('0');
});

test('batch GET entries take ifNoneMatch / ifModifiedSince from the entry, never from the POST', async () => {
  const { id, lastModified } = await createOrganization();
  const batch = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [
      { request: { method: 'GET', url: `Organization/${id}`, ifNoneMatch: 'W/"1"' } },
      { request: { method: 'GET', url: `Organization/${id}`, ifNoneMatch: 'W/"5"' } },
      { request: { method: 'GET', url: `Organization/${id}`, ifModifiedSince: new Date(Date.parse(lastModified) + 60_000).toISOString() } },
      { request: { method: 'GET', url: `Organization/${id}` } },
    ],
  };
  const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).set('If-None-Match', '*').send(JSON.stringify(batch));
  expect(res.status).toBe(200);
  const entries = res.body.entry as { resource?: { id: string }; response: { status: string; etag?: string } }[];
  expect(entries.map((e) => e.response.status)).toEqual(['304 Not Modified', '200 OK', '304 Not Modified', '200 OK']);
  expect(entries[0]!.response.etag).toBe('W/"1"');
  expect(entries[0]!.resource).toBeUndefined();
  expect(entries[1]!.resource?.id).toBe(id);
});

test('the CapabilityStatement declares conditional read', async () => {
  const res = await t.http.get('/fhir/metadata');
  const org = res.body.rest[0].resource.find((r: { type: string }) => r.type === 'Organization');
  expect(org.conditionalRead).toBe('full-support');
});
