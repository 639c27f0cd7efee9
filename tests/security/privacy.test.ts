/** PII guard, client codes, $register by UIC across organisations, and the right to erasure. */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, FHIR_JSON, type TestApp, startTestApp, testRegistry } from '../helpers/app';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { createIndexer } from '../../src/search/indexer';
import { CLIENT_CODE_SYSTEM, isValidClientCode } from '../../src/privacy/client-code';

const dir = mkdtempSync(join(tmpdir(), 'linkcare-privacy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** An app on a database file we can read raw afterwards. */
function fileApp(): { t: TestApp; file: string } {
  const file = join(dir, `db-${n++}.sqlite`);
  const store = openSqliteStore(file, { indexer: createIndexer(testRegistry(), BASE) });
  return { t: startTestApp({}, store), file };
}

/** Everything on disk for the database (main file, WAL, shared memory), as one latin1 string. */
function rawDatabase(file: string): string {
  const base = file.split('/').pop()!;
  return readdirSync(dir)
    .filter((f) => f.startsWith(base))
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('\n');
}

const registerParams = (uic: string | undefined, extra: object[] = []) => ({
  resourceType: 'Parameters',
  parameter: [
    ...(uic ? [{ name: 'uic', valueString: uic }] : []),
    { name: 'birthYear', valueInteger: 1994 },
    { name: 'gender', valueCode: 'female' },
    { name: 'keyPopulation', valueCoding: { system: 'http://snomed.info/sct', code: '449344001', display: 'Sex worker' } },
    ...extra,
  ],
});

describe('PII guard', () => {
  let t: TestApp;
  beforeAll(() => {
    t = startTestApp();
  });
  afterAll(() => t.close());

  test.each([
    ['name', { name: [{ given: ['Ana'] }] }, 'Patient.name'],
    ['telecom', { telecom: [{ system: 'phone', value: '+100000000' }] }, 'Patient.telecom'],
    ['address', { address: [{ city: 'Somewhere' }] }, 'Patient.address'],
    ['photo', { photo: [{ contentType: 'image/png', data: 'AAAA' }] }, 'Patient.photo'],
    ['contact', { contact: [{ relationship: [{ text: 'sister' }] }] }, 'Patient.contact'],
    ['a full birth date', { birthDate: '1994-03-02' }, 'Patient.birthDate'],
    ['a birth month', { birthDate: '1994-03' }, 'Patient.birthDate'],
    [
      'a passport number',
      { identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PPN' }] }, value: 'X1234567' }] },
      'Patient.identifier[0]',
    ],
    [
      'a national id',
      { identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NI' }] }, value: '12345' }] },
      'Patient.identifier[0]',
    ],
  ])('a Patient with %s is refused with 422 naming the element, and nothing is stored', async (_n, extra, expression) => {
    const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', gender: 'female', ...extra }));
    expect(res.status).toBe(422);
    expect(res.body.issue.map((i: { expression: string[] }) => i.expression[0])).toContain(expression);
    expect(JSON.stringify(res.body)).not.toMatch(/Ana|\+100000000|Somewhere|X1234567/);
    expect((await t.http.get('/fhir/Patient?_summary=count')).body.total).toBe(0);
  });

  test('the guard applies to updates, patches and transactions too', async () => {
    const p = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', birthDate: '1990' }));
    expect(p.status).toBe(201);
    const put = await t.http.put(`/fhir/Patient/${p.body.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...p.body, name: [{ family: 'X' }] }));
    expect(put.status).toBe(422);
    const patch = await t.http
      .patch(`/fhir/Patient/${p.body.id}`)
      .set('Content-Type', 'application/json-patch+json')
      .send(JSON.stringify([{ op: 'add', path: '/telecom', value: [{ system: 'phone', value: '1' }] }]));
    expect(patch.status).toBe(422);
    const tx = await t.http
      .post('/fhir')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient', address: [{ text: 'x' }] }, request: { method: 'POST', url: 'Patient' } }] }));
    expect(tx.status).toBe(422);
    expect(tx.body.issue[0].expression[0]).toBe('Bundle.entry[0].resource.address');
  });

  test('a year-month birth date is accepted when configured', async () => {
    const monthly = startTestApp({ BIRTHDATE_PRECISION: 'month' });
    const res = await monthly.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', birthDate: '1994-03' }));
    expect(res.status).toBe(201);
    await monthly.close();
  });
});

describe('client codes', () => {
  let t: TestApp;
  beforeAll(() => {
    t = startTestApp();
  });
  afterAll(() => t.close());

  test('every Patient gets one server-assigned, valid, searchable client code that updates keep', async () => {
    const a = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', gender: 'female' }));
    const b = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', gender: 'male' }));
    const code = a.body.identifier.find((i: { system: string }) => i.system === CLIENT_CODE_SYSTEM).value as string;
    expect(isValidClientCode(code)).toBe(true);
    expect(b.body.identifier[0].value).not.toBe(code);
    const found = await t.http.get(`/fhir/Patient?identifier=${encodeURIComponent(code)}`);
    expect(found.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([a.body.id]);
    const { identifier: _drop, ...withoutCode } = a.body;
    const upd = await t.http.put(`/fhir/Patient/${a.body.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...withoutCode, gender: 'other' }));
    expect(upd.status).toBe(200);
    expect(upd.body.identifier).toEqual(a.body.identifier);
    const change = await t.http
      .put(`/fhir/Patient/${a.body.id}`)
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ ...a.body, identifier: [{ system: CLIENT_CODE_SYSTEM, value: 'AAAA-AAAA-AAA' }] }));
    expect(change.status).toBe(422);
    const preset = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', identifier: [{ system: CLIENT_CODE_SYSTEM, value: code }] }));
    expect(preset.status).toBe(422);
  });
});

describe('$register', () => {
  test('the same UIC registered at two organisations finds one client; the UIC is in neither the database nor the logs', async () => {
    const { t, file } = fileApp();
    const uic = 'MaRiA-JoSé 01/02/1994';
    const a = await t.as(['outreach'], 'org-a').post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify(registerParams(uic)));
    expect(a.status).toBe(201);
    expect(a.body.resourceType).toBe('Patient');
    expect(a.body.birthDate).toBe('1994');
    // Org A records something about the client that org B must not see.
    const obs = await t.as(['clinician'], 'org-a').post('/fhir/Observation').set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'HIV test' }, subject: { reference: `Patient/${a.body.id}` } }));
    expect(obs.status).toBe(201);
    expect((await t.as(['clinician'], 'org-b').get(`/fhir/Patient/${a.body.id}`)).status).toBe(404);
    // The same UIC, written differently (case, spaces, accents), at org B.
    const b = await t.as(['outreach'], 'org-b').post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify(registerParams('maria jose 01021994')));
    expect(b.status).toBe(200);
    expect(b.body.id).toBe(a.body.id);
    expect((await t.as(['clinician'], 'org-b').get(`/fhir/Patient/${a.body.id}`)).status).toBe(200);
    expect((await t.as(['clinician'], 'org-b').get(`/fhir/Observation/${obs.body.id}`)).status).toBe(404);
    expect((await t.as(['clinician'], 'org-b').get(`/fhir/Observation?subject=Patient/${a.body.id}&_summary=count`)).body.total).toBe(0);
    // A different UIC is a different client.
    const c = await t.as(['outreach'], 'org-b').post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify(registerParams('PEDRO 1990')));
    expect(c.status).toBe(201);
    expect(c.body.id).not.toBe(a.body.id);
    await t.store.purge();
    const raw = rawDatabase(file).toUpperCase();
    for (const form of ['MARIA', 'JOSE', 'JOSÉ', '01021994', 'PEDRO']) expect(raw).not.toContain(form);
    const logs = t.logs.join('\n').toUpperCase();
    for (const form of ['MARIA', 'JOSE', '01021994', 'PEDRO']) expect(logs).not.toContain(form);
    await t.close();
  });

  test('bad input is a 400 naming the parameter, without echoing the UIC', async () => {
    const { t } = fileApp();
    const noGender = await t.http.post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'uic', valueString: 'SECRETUIC1' }, { name: 'birthYear', valueInteger: 1990 }] }));
    expect(noGender.status).toBe(400);
    expect(JSON.stringify(noGender.body)).toContain('gender');
    expect(JSON.stringify(noGender.body)).not.toContain('SECRETUIC1');
    const badUic = await t.http.post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify(registerParams('!!')));
    expect(badUic.status).toBe(400);
    const extra = await t.http.post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify(registerParams('ABCDEF', [{ name: 'name', valueString: 'Ana' }])));
    expect(extra.status).toBe(400);
    expect((await t.as(['reporting']).post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify(registerParams('ABCDEF')))).status).toBe(403);
    expect((await t.http.get('/fhir/Patient?_summary=count')).body.total).toBe(0);
    await t.close();
  });
});

describe('$erase', () => {
  test('removes every trace of the client from the database file except the client code in audit events', async () => {
    const { t, file } = fileApp();
    const clinic = t.as(['clinician', 'admin'], 'org-a');
    const reg = await clinic.post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify(registerParams('ERASE ME 1994')));
    const id = reg.body.id as string;
    const code = reg.body.identifier[0].value as string;
    const marker = 'UniqueClinicalNoteZq9';
    const o = await clinic.post('/fhir/Observation').set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'note' }, subject: { reference: `Patient/${id}` }, note: [{ text: marker }] }));
    await clinic.put(`/fhir/Observation/${o.body.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...o.body, status: 'amended' }));
    await clinic.get(`/fhir/Observation/${o.body.id}`);
    const other = await clinic.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', gender: 'male' }));
    expect((await t.as(['clinician'], 'org-a').post(`/fhir/Patient/${id}/$erase`).set('Content-Type', FHIR_JSON).send('{"resourceType":"Parameters"}')).status).toBe(403);
    expect((await t.as(['admin'], 'org-b').post(`/fhir/Patient/${id}/$erase`).set('Content-Type', FHIR_JSON).send('{"resourceType":"Parameters"}')).status).toBe(404);
    const erased = await clinic.post(`/fhir/Patient/${id}/$erase`).set('Content-Type', FHIR_JSON).send('{"resourceType":"Parameters"}');
    expect(erased.status).toBe(200);
    expect(erased.body.parameter).toEqual([{ name: 'erased', valueInteger: 2 }, { name: 'clientCode', valueString: code }]);
    expect((await clinic.get(`/fhir/Patient/${id}`)).status).toBe(404);
    expect((await clinic.get(`/fhir/Observation/${o.body.id}/_history/1`)).status).toBe(404);
    expect((await clinic.get(`/fhir/Patient/${other.body.id}`)).status).toBe(200);
    // The same UIC now registers a new client.
    const again = await clinic.post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify(registerParams('ERASE ME 1994')));
    expect(again.status).toBe(201);
    const raw = rawDatabase(file);
    expect(raw).not.toContain(id);
    expect(raw).not.toContain(marker);
    // The Observation's id survives only as a dangling reference inside audit events.
    expect(await t.store.vread('Observation', o.body.id, '1')).toBeUndefined();
    expect((await t.store.history({ type: 'Observation', id: o.body.id, count: 10 })).total).toBe(0);
    // The audit trail keeps the client code (and only that) for the erasure.
    const audit = await t.as(['auditor'], 'org-a').get(`/fhir/AuditEvent?patient:identifier=${encodeURIComponent(`${CLIENT_CODE_SYSTEM}|${code}`)}&_count=100`);
    expect(audit.status).toBe(200);
    expect(audit.body.total).toBeGreaterThan(2);
    expect(JSON.stringify(audit.body)).not.toContain(`Patient/${id}`);
    await t.close();
  });
});
