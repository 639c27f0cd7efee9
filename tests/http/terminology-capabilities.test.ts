/**
 * GET /fhir/metadata?mode=terminology (http://hl7.org/fhir/R4/http.html#capabilities): a valid R4
 * TerminologyCapabilities naming only code systems the server holds and operations it has; `full`
 * (and no mode) still answer the CapabilityStatement; an unknown mode is a 400; no token needed.
 */
import request from 'supertest';
import type { TerminologyCapabilities } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { loadCatalog } from '../../src/terminology/catalog';
import { definitionRef, newFhirAjv, sharedValidationSchema } from '../../src/fhir/validation/schema';
import { TERMINOLOGY_CAPABILITIES_TTL_MS } from '../../src/fhir/terminology-capabilities';

let t: TestApp;
beforeAll(async () => {
  t = startTestApp();
  await t.linkcare.ready;
});
afterAll(() => t.close());

/** Anonymous: no Authorization header at all. */
const anonymous = (query: string) => request(t.app).get(`/fhir/metadata${query}`);

async function terminology(): Promise<TerminologyCapabilities> {
  const res = await anonymous('?mode=terminology');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toContain(FHIR_JSON);
  return res.body as TerminologyCapabilities;
}

test('mode=terminology answers a TerminologyCapabilities with its required elements, without a token', async () => {
  const body = await terminology();
  expect(body.resourceType).toBe('TerminologyCapabilities');
  expect(body.status).toBe('active');
  expect(new Date(body.date).toISOString()).toBe(body.date);
  expect(body.kind).toBe('instance');
  // tcp-3: an instance names its implementation; the same as the CapabilityStatement's.
  const cs = (await anonymous('')).body;
  expect(body.software).toEqual(cs.software);
  expect(body.implementation).toEqual(cs.implementation);
});

test('it is valid against the R4 JSON schema', async () => {
  const ajv = newFhirAjv();
  ajv.addSchema(sharedValidationSchema().schema);
  const check = ajv.getSchema(definitionRef('TerminologyCapabilities'))!;
  const body = await terminology();
  expect(check(body) ? [] : check.errors).toEqual([]);
  // The schema does hold the required elements to account.
  const { kind: _kind, ...withoutKind } = body;
  expect(check(withoutKind)).toBe(false);
  // tcp-6: one entry per code system.
  const uris = body.codeSystem!.map((c) => c.uri);
  expect(new Set(uris).size).toBe(uris.length);
});

test('every listed code system is one the server holds, and every seeded one is listed with its version', async () => {
  const body = await terminology();
  for (const entry of body.codeSystem!) {
    const res = await t.http.get(`/fhir/CodeSystem?url=${encodeURIComponent(entry.uri!)}`);
    expect([entry.uri, res.status, (res.body.entry?.length ?? 0) > 0]).toEqual([entry.uri, 200, true]);
    const stored = res.body.entry.map((e: { resource: { version?: string } }) => e.resource.version);
    for (const v of entry.version ?? []) expect(stored).toContain(v.code);
  }
  for (const cs of loadCatalog().codeSystems.values()) {
    expect(body.codeSystem).toContainEqual({ uri: cs.url, version: [{ code: cs.version, isDefault: true }] });
  }
});

test('a CodeSystem written later is listed; its url alone is enough for $validate-code', async () => {
  const url = 'https://example.org/fhir/CodeSystem/tc-test';
  const created = await t.http
    .post('/fhir/CodeSystem')
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify({ resourceType: 'CodeSystem', url, version: '2', status: 'active', content: 'complete', concept: [{ code: 'a', display: 'A' }] }));
  expect(created.status).toBe(201);
  // The answer is reused for a minute (anonymous requests must not each scan the CodeSystems).
  await terminology();
  const later = Date.now() + TERMINOLOGY_CAPABILITIES_TTL_MS + 1;
  const clock = jest.spyOn(Date, 'now').mockReturnValue(later);
  try {
    expect((await terminology()).codeSystem).toContainEqual({ uri: url, version: [{ code: '2', isDefault: true }] });
  } finally {
    clock.mockRestore();
  }
  const check = await t.http.get(`/fhir/CodeSystem/$validate-code?url=${encodeURIComponent(url)}&code=a`);
  expect(check.body.parameter[0]).toEqual({ name: 'result', valueBoolean: true });
});

test('repeated anonymous requests within a minute reuse one answer: the CodeSystems are not searched again', async () => {
  await terminology();
  const search = jest.spyOn(t.store, 'search');
  try {
    for (let i = 0; i < 5; i++) await terminology();
    expect(search).not.toHaveBeenCalled();
  } finally {
    search.mockRestore();
  }
});

test('expansion and validateCode describe the $expand and $validate-code this server has; no translation or closure', async () => {
  const body = await terminology();
  expect(body.validateCode).toEqual({ translations: false });
  expect(body.expansion?.paging).toBe(true);
  expect(body.expansion?.parameter?.map((p) => p.name)).toEqual(['url', 'valueSetVersion', 'filter', 'count', 'offset']);
  expect(body.expansion?.textFilter).toEqual(expect.any(String));
  expect(body.translation).toBeUndefined();
  expect(body.closure).toBeUndefined();
  // The expansion parameters it names really work.
  const url = 'https://linkcare.example.org/fhir/ValueSet/test-method';
  const res = await t.http.get(`/fhir/ValueSet/$expand?url=${encodeURIComponent(url)}&filter=a&count=1&offset=0`);
  expect(res.status).toBe(200);
});

test('mode=full, mode=normative and no mode answer the CapabilityStatement', async () => {
  for (const query of ['', '?mode=full', '?mode=normative', '?_format=json']) {
    const res = await anonymous(query);
    expect([query, res.status, res.body.resourceType]).toEqual([query, 200, 'CapabilityStatement']);
  }
});

test('an unknown, empty or repeated mode is a 400 OperationOutcome naming mode', async () => {
  for (const query of ['?mode=bogus', '?mode=', '?mode=Terminology', '?mode=full&mode=terminology']) {
    const res = await anonymous(query);
    expect([query, res.status]).toEqual([query, 400]);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0]).toMatchObject({ severity: 'error', code: 'invalid', expression: ['mode'] });
    expect(res.body.issue[0].diagnostics).toEqual(expect.any(String));
  }
});

test('like the CapabilityStatement it stays public and cacheable; nothing else is opened', async () => {
  for (const query of ['', '?mode=terminology']) {
    const res = await anonymous(query);
    expect([query, res.status, res.headers['cache-control']]).toEqual([query, 200, undefined]);
  }
  expect((await request(t.app).get('/fhir/CodeSystem?mode=terminology')).status).toBe(401);
  expect((await request(t.app).get('/fhir/metadata/x?mode=terminology')).status).toBe(401);
  expect((await request(t.app).post('/fhir/metadata?mode=terminology')).status).toBe(401);
  expect((await t.http.get('/fhir/CodeSystem')).headers['cache-control']).toBe('no-store');
});
