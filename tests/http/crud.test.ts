/** REST interactions on single resources: create, read, vread, update, patch, delete, history. */
import { BASE, FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

let t: TestApp;
beforeEach(() => {
  t = startTestApp();
});
afterEach(() => t.close());

const obs = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '23876-6' }] },
  valueQuantity: { value: 40, unit: 'copies/mL' },
};

async function createObs(body: object = obs) {
  const res = await t.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
  expect(res.status).toBe(201);
  return res;
}

describe('create', () => {
  test('assigns a time-ordered UUID id, version 1 and server meta; sets Location, ETag, Last-Modified', async () => {
    const res = await createObs({ ...obs, id: 'client-chosen', meta: { versionId: '99', lastUpdated: '2001-01-01T00:00:00Z', tag: [{ code: 'x' }] } });
    // RFC 9562 version 7: ids created later sort after earlier ones (B-tree locality in the store).
    expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const next = await createObs(obs);
    expect(next.body.id > res.body.id).toBe(true);
    expect(res.body.meta.versionId).toBe('1');
    expect(res.body.meta.lastUpdated).not.toBe('2001-01-01T00:00:00Z');
    expect(res.body.meta.tag).toEqual([{ code: 'x' }]);
    expect(res.headers.location).toBe(`${BASE}/Observation/${res.body.id}/_history/1`);
    expect(res.headers.etag).toBe('W/"1"');
    expect(new Date(res.headers['last-modified']!).getTime()).toBeGreaterThan(0);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
  });

  test('ids cannot be enumerated: after the time prefix, consecutive ids share no run of random bits', async () => {
    const a = await createObs();
    const b = await createObs();
    expect(a.body.id).not.toBe(b.body.id);
    // The last 16 hex digits are random (62 bits after the variant); a counter would change only the end.
    const tail = (id: string) => id.replace(/-/g, '').slice(16);
    const differing = [...tail(a.body.id)].filter((ch, i) => ch !== tail(b.body.id)[i]).length;
    expect(differing).toBeGreaterThan(6);
  });

  test('accepts application/json too', async () => {
    const res = await t.http.post('/fhir/Observation').set('Content-Type', 'application/json').send(JSON.stringify(obs));
    expect(res.status).toBe(201);
  });

  test('Prefer: return=minimal sends no body; return=OperationOutcome sends an outcome', async () => {
    const min = await t.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).set('Prefer', 'return=minimal').send(JSON.stringify(obs));
    expect(min.status).toBe(201);
    expect(min.text).toBe('');
    expect(min.headers.location).toContain('/Observation/');
    const oo = await t.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).set('Prefer', 'return=OperationOutcome').send(JSON.stringify(obs));
    expect(oo.body.resourceType).toBe('OperationOutcome');
    expect(oo.body.issue[0].severity).toBe('information');
  });

  test('unknown or server-owned types are refused', async () => {
    const unknown = await t.http.post('/fhir/Basic').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Basic' }));
    expect(unknown.status).toBe(404);
    expect(unknown.body.resourceType).toBe('OperationOutcome');
    const audit = await t.http.post('/fhir/AuditEvent').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'AuditEvent' }));
    expect(audit.status).toBe(405);
  });
});

describe('read and vread', () => {
  test('read returns the current version with ETag; vread a past one', async () => {
    const c = await createObs();
    const id = c.body.id;
    await t.http.put(`/fhir/Observation/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...obs, id, status: 'amended' }));
    const r = await t.http.get(`/fhir/Observation/${id}`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('amended');
    expect(r.headers.etag).toBe('W/"2"');
    const v1 = await t.http.get(`/fhir/Observation/${id}/_history/1`);
    expect(v1.status).toBe(200);
    expect(v1.body.status).toBe('final');
    expect(v1.body.meta.versionId).toBe('1');
    expect((await t.http.get(`/fhir/Observation/${id}/_history/9`)).status).toBe(404);
  });

  test('unknown id → 404 OperationOutcome; malformed id → 404', async () => {
    const r = await t.http.get('/fhir/Observation/does-not-exist');
    expect(r.status).toBe(404);
    expect(r.body.issue[0].code).toBe('not-found');
    expect((await t.http.get('/fhir/Observation/' + 'x'.repeat(65))).status).toBe(404);
  });

  test('HEAD answers like GET without a body', async () => {
    const c = await createObs();
    const r = await t.http.head(`/fhir/Observation/${c.body.id}`);
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBe('W/"1"');
    expect(r.text).toBeUndefined();
  });

  test('_summary and _elements shape the result and mark it SUBSETTED', async () => {
    const c = await createObs({ ...obs, text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' }, note: [{ text: 'n' }] });
    const el = await t.http.get(`/fhir/Observation/${c.body.id}?_elements=status`);
    expect(Object.keys(el.body).sort()).toEqual(['code', 'id', 'meta', 'resourceType', 'status']);
    expect(el.body.meta.tag).toContainEqual(expect.objectContaining({ code: 'SUBSETTED' }));
    const sum = await t.http.get(`/fhir/Observation/${c.body.id}?_summary=true`);
    expect(sum.body.valueQuantity).toBeDefined();
    expect(sum.body.note).toBeUndefined();
    expect(sum.body.text).toBeUndefined();
    const text = await t.http.get(`/fhir/Observation/${c.body.id}?_summary=text`);
    expect(text.body.text).toBeDefined();
    expect(text.body.valueQuantity).toBeUndefined();
    const data = await t.http.get(`/fhir/Observation/${c.body.id}?_summary=data`);
    expect(data.body.text).toBeUndefined();
    expect(data.body.note).toBeDefined();
    expect((await t.http.get(`/fhir/Observation/${c.body.id}?_summary=bogus`)).status).toBe(400);
  });
});

describe('update', () => {
  test('If-Match with the current version succeeds; a stale one gets 412 and changes nothing', async () => {
    const c = await createObs();
    const id = c.body.id;
    const ok = await t.http.put(`/fhir/Observation/${id}`).set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"').send(JSON.stringify({ ...obs, id, status: 'amended' }));
    expect(ok.status).toBe(200);
    expect(ok.headers.etag).toBe('W/"2"');
    const stale = await t.http.put(`/fhir/Observation/${id}`).set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"').send(JSON.stringify({ ...obs, id, status: 'cancelled' }));
    expect(stale.status).toBe(412);
    expect(stale.body.resourceType).toBe('OperationOutcome');
    expect((await t.http.get(`/fhir/Observation/${id}`)).body.status).toBe('amended');
    const bad = await t.http.put(`/fhir/Observation/${id}`).set('Content-Type', FHIR_JSON).set('If-Match', 'garbage"etag').send(JSON.stringify({ ...obs, id }));
    expect(bad.status).toBe(400);
  });

  test('parallel updates with the same If-Match: exactly one wins', async () => {
    const c = await createObs();
    const id = c.body.id;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.http.put(`/fhir/Observation/${id}`).set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"').send(JSON.stringify({ ...obs, id, valueQuantity: { value: i } })),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(9);
  });

  test('body id must be present and match the URL', async () => {
    const c = await createObs();
    const missing = await t.http.put(`/fhir/Observation/${c.body.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(obs));
    expect(missing.status).toBe(400);
    expect(missing.body.issue[0].expression).toEqual(['Observation.id']);
    const other = await t.http.put(`/fhir/Observation/${c.body.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...obs, id: 'other' }));
    expect(other.status).toBe(400);
  });

  test('update-as-create: allowed for directory types, refused for clinical types', async () => {
    const org = await t.http.put('/fhir/Organization/clinic-1').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', id: 'clinic-1', name: 'Clinic' }));
    expect(org.status).toBe(201);
    expect(org.headers.location).toBe(`${BASE}/Organization/clinic-1/_history/1`);
    const o = await t.http.put('/fhir/Observation/my-id').set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...obs, id: 'my-id' }));
    expect(o.status).toBe(404);
    expect((await t.http.get('/fhir/Observation/my-id')).status).toBe(404);
  });

  test('update-as-create for clinical types when configured', async () => {
    const custom = startTestApp({ CLIENT_ID_TYPES: 'Observation' });
    const o = await custom.http.put('/fhir/Observation/my-id').set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...obs, id: 'my-id' }));
    expect(o.status).toBe(201);
    await custom.close();
  });
});

describe('patch', () => {
  test('JSON Patch applies, validates and versions', async () => {
    const c = await createObs();
    const id = c.body.id;
    const res = await t.http
      .patch(`/fhir/Observation/${id}`)
      .set('Content-Type', 'application/json-patch+json')
      .set('If-Match', 'W/"1"')
      .send(JSON.stringify([{ op: 'replace', path: '/status', value: 'amended' }, { op: 'add', path: '/note', value: [{ text: 'rechecked' }] }]));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'amended', note: [{ text: 'rechecked' }], meta: { versionId: '2' } });
  });

  test('a patch producing an invalid resource is refused with a path; a failed test op is 422', async () => {
    const c = await createObs();
    const id = c.body.id;
    const invalid = await t.http.patch(`/fhir/Observation/${id}`).set('Content-Type', 'application/json-patch+json').send(JSON.stringify([{ op: 'replace', path: '/status', value: 42 }]));
    expect(invalid.status).toBe(400);
    expect(invalid.body.issue[0].expression).toEqual(['Observation.status']);
    const failed = await t.http.patch(`/fhir/Observation/${id}`).set('Content-Type', 'application/json-patch+json').send(JSON.stringify([{ op: 'test', path: '/status', value: 'draft' }]));
    expect(failed.status).toBe(422);
    const changeId = await t.http.patch(`/fhir/Observation/${id}`).set('Content-Type', 'application/json-patch+json').send(JSON.stringify([{ op: 'replace', path: '/id', value: 'x' }]));
    expect(changeId.status).toBe(422);
    expect((await t.http.get(`/fhir/Observation/${id}`)).body.meta.versionId).toBe('1');
  });

  test('PATCH with a non-patch content type → 415', async () => {
    const c = await createObs();
    const res = await t.http.patch(`/fhir/Observation/${c.body.id}`).set('Content-Type', 'text/plain').send('[]');
    expect(res.status).toBe(415);
  });
});

describe('delete and history', () => {
  test('delete writes a version; read → 410; history shows all versions newest first', async () => {
    const c = await createObs();
    const id = c.body.id;
    await t.http.put(`/fhir/Observation/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...obs, id, status: 'amended' }));
    const del = await t.http.delete(`/fhir/Observation/${id}`);
    expect(del.status).toBe(200);
    expect(del.headers.etag).toBe('W/"3"');
    const gone = await t.http.get(`/fhir/Observation/${id}`);
    expect(gone.status).toBe(410);
    expect(gone.body.issue[0].code).toBe('deleted');
    const h = await t.http.get(`/fhir/Observation/${id}/_history`);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ resourceType: 'Bundle', type: 'history', total: 3 });
    expect(h.body.entry.map((e: { request: { method: string } }) => e.request.method)).toEqual(['DELETE', 'PUT', 'POST']);
    // Each entry's status is what that interaction answered.
    expect(h.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['200 OK', '200 OK', '201 Created']);
    expect(h.body.entry[0].resource).toBeUndefined();
    expect(h.body.entry[2].resource.status).toBe('final');
    expect((await t.http.get(`/fhir/Observation/${id}/_history/2`)).body.status).toBe('amended');
    const again = await t.http.delete(`/fhir/Observation/${id}`);
    expect(again.status).toBe(200);
  });

  test('type and system history with _count paging, _since and _at', async () => {
    // Start-up seeding (CodeSystems, Measures…) is in the system history too: count from after it.
    // (A fixed 5 ms wait here was too short once under a full parallel test run.)
    await t.linkcare.ready;
    await new Promise((r) => setTimeout(r, 5));
    const start = new Date().toISOString();
    const first = await createObs();
    await new Promise((r) => setTimeout(r, 5));
    const mid = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await createObs();
    await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name: 'A' }));
    const type = await t.http.get('/fhir/Observation/_history');
    expect(type.body.total).toBe(2);
    const system = await t.http.get(`/fhir/_history?_count=2&_since=${encodeURIComponent(start)}`);
    expect(system.body.total).toBe(3);
    expect(system.body.entry).toHaveLength(2);
    const next = system.body.link.find((l: { relation: string }) => l.relation === 'next').url as string;
    expect(next.startsWith(`${BASE}/_history?`)).toBe(true);
    const page2 = await t.http.get(next.slice(BASE.length + 0).replace(/^/, '/fhir'));
    expect(page2.body.entry).toHaveLength(1);
    const since = await t.http.get(`/fhir/_history?_since=${encodeURIComponent(mid)}`);
    expect(since.body.total).toBe(2);
    const at = await t.http.get(`/fhir/Observation/_history?_at=${encodeURIComponent(mid)}`);
    expect(at.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([first.body.id]);
    expect((await t.http.get('/fhir/_history?_since=yesterday')).status).toBe(400);
    expect((await t.http.get('/fhir/Observation/nope/_history')).status).toBe(404);
  });

  test('_at with a date is the whole period: every version current at some point in it', async () => {
    const created = await createObs();
    const id = created.body.id as string;
    for (const value of [41, 42]) {
      const res = await t.http.put(`/fhir/Observation/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...obs, id, valueQuantity: { value, unit: 'copies/mL' } }));
      expect(res.status).toBe(200);
    }
    const versions = async (at: string) =>
      ((await t.http.get(`/fhir/Observation/${id}/_history?_at=${encodeURIComponent(at)}`)).body.entry ?? []).map((e: { resource: { meta: { versionId: string } } }) => e.resource.meta.versionId);
    const today = (created.body.meta.lastUpdated as string).slice(0, 10);
    expect(await versions(today)).toEqual(['3', '2', '1']);
    expect(await versions(today.slice(0, 7))).toEqual(['3', '2', '1']);
    expect(await versions('2000-01-01')).toEqual([]);
    // A whole year later: only the version still current then.
    expect(await versions(String(new Date().getUTCFullYear() + 1))).toEqual(['3']);
  });
});
