/**
 * References the server cannot resolve are refused, not stored; a transaction resolves its own
 * (http://hl7.org/fhir/R4/http.html#trules) and its fullUrls are unique (bdl-7).
 */
import { randomUUID } from 'node:crypto';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

let t: TestApp;
beforeEach(() => {
  t = startTestApp();
});
afterEach(() => t.close());

const json = (body: object) => JSON.stringify(body);
const post = (type: string, body: object, as = t.http) => as.post(`/fhir/${type}`).set('Content-Type', FHIR_JSON).send(json(body));
const bundle = (type: 'batch' | 'transaction', entry: object[]) => post('', { resourceType: 'Bundle', type, entry });
const count = async (type: string) => (await t.http.get(`/fhir/${type}?_summary=count`)).body.total as number;
const observation = (subject: string, extra: object = {}) => ({ resourceType: 'Observation', status: 'final', code: { text: 'viral load' }, subject: { reference: subject }, ...extra });

async function patient(as = t.http): Promise<string> {
  const res = await post('Patient', { resourceType: 'Patient', gender: 'male' }, as);
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe('outside a transaction', () => {
  test('a search URL as reference is 422 naming the element, and nothing is stored', async () => {
    await patient();
    const res = await post('Observation', observation('Patient?gender=male'));
    expect(res.status).toBe(422);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].expression).toEqual(['Observation.subject.reference']);
    expect(await count('Observation')).toBe(0);
  });

  test('urn:uuid and urn:oid references are 422, wherever they are', async () => {
    const id = await patient();
    const uuid = await post('Observation', observation(`urn:uuid:${randomUUID()}`));
    expect(uuid.status).toBe(422);
    const oid = await post('Observation', observation(`Patient/${id}`, { performer: [{ reference: `Patient/${id}` }, { reference: 'urn:oid:1.2.3.4' }] }));
    expect(oid.status).toBe(422);
    expect(oid.body.issue[0].expression).toEqual(['Observation.performer[1].reference']);
    const ok = await post('Observation', observation(`Patient/${id}`));
    expect(ok.status).toBe(201);
    const put = await t.http.put(`/fhir/Observation/${ok.body.id}`).set('Content-Type', FHIR_JSON).send(json({ ...observation('Patient?gender=male'), id: ok.body.id }));
    expect(put.status).toBe(422);
    const patch = await t.http.patch(`/fhir/Observation/${ok.body.id}`).set('Content-Type', 'application/json-patch+json').send(json([{ op: 'replace', path: '/subject/reference', value: `urn:uuid:${randomUUID()}` }]));
    expect(patch.status).toBe(422);
    expect((await t.http.get(`/fhir/Observation/${ok.body.id}`)).body.subject.reference).toBe(`Patient/${id}`);
  });

  test('another organisation cannot slip past the enrolment check with a search URL', async () => {
    const id = await patient();
    const other = t.as(['clinician'], 'other-org');
    expect((await post('Observation', observation(`Patient/${id}`), other)).status).toBe(422);
    const res = await post('Observation', observation(`Patient?_id=${id}`), other);
    expect(res.status).toBe(422);
    expect(await count('Observation')).toBe(0);
  });

  test('batch entries are refused one by one', async () => {
    const id = await patient();
    const res = await bundle('batch', [
      { resource: observation('Patient?gender=male'), request: { method: 'POST', url: 'Observation' } },
      { fullUrl: `urn:uuid:${randomUUID()}`, resource: observation(`Patient/${id}`), request: { method: 'POST', url: 'Observation' } },
      { resource: observation(`urn:uuid:${randomUUID()}`), request: { method: 'POST', url: 'Observation' } },
    ]);
    expect(res.status).toBe(200);
    const [search, ok, urn] = res.body.entry;
    expect(search.response.status).toBe('422');
    expect(search.response.outcome.issue[0].expression).toEqual(['Bundle.entry[0].resource.subject.reference']);
    expect(ok.response.status).toBe('201 Created');
    expect(urn.response.status).toBe('422');
    expect(await count('Observation')).toBe(1);
  });
});

describe('inside a transaction', () => {
  test('a urn:uuid that no entry has is 400 naming the element, and nothing is stored', async () => {
    const id = await patient();
    const res = await bundle('transaction', [
      { resource: { resourceType: 'Organization', name: 'A' }, request: { method: 'POST', url: 'Organization' } },
      { resource: observation(`Patient/${id}`, { performer: [{ reference: `urn:uuid:${randomUUID()}` }] }), request: { method: 'POST', url: 'Observation' } },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['Bundle.entry[1].resource.performer[0].reference']);
    expect(await count('Organization')).toBe(0);
    expect(await count('Observation')).toBe(0);
  });

  test('a urn:uuid naming a GET entry resolves to nothing either', async () => {
    const urn = `urn:uuid:${randomUUID()}`;
    const res = await bundle('transaction', [
      { fullUrl: urn, request: { method: 'GET', url: 'Patient?gender=male' } },
      { resource: { resourceType: 'Patient', gender: 'female', link: [{ other: { reference: urn }, type: 'seealso' }] }, request: { method: 'POST', url: 'Patient' } },
    ]);
    expect(res.status).toBe(400);
  });

  test('conditional references resolve to the one match; none or several fail with 412', async () => {
    const id = await patient();
    const ok = await bundle('transaction', [{ resource: observation(`Patient?_id=${id}`), request: { method: 'POST', url: 'Observation' } }]);
    expect(ok.status).toBe(200);
    expect(ok.body.entry[0].resource.subject.reference).toBe(`Patient/${id}`);
    await patient();
    const several = await bundle('transaction', [{ resource: observation('Patient?gender=male'), request: { method: 'POST', url: 'Observation' } }]);
    expect(several.status).toBe(412);
    const none = await bundle('transaction', [{ resource: observation('Patient?gender=other'), request: { method: 'POST', url: 'Observation' } }]);
    expect(none.status).toBe(412);
    expect(await count('Observation')).toBe(1);
  });

  test('a conditional reference to a client of another organisation is not resolved into the record', async () => {
    const id = await patient();
    const other = t.as(['clinician'], 'other-org');
    const res = await other.post('/fhir').set('Content-Type', FHIR_JSON).send(json({
      resourceType: 'Bundle', type: 'transaction', entry: [{ resource: observation(`Patient?_id=${id}`), request: { method: 'POST', url: 'Observation' } }],
    }));
    expect([412, 422]).toContain(res.status);
    expect(await count('Observation')).toBe(0);
  });
});

describe('fullUrl is unique in a Bundle (bdl-7)', () => {
  test('a transaction with two entries sharing a fullUrl is 400 naming the second', async () => {
    const urn = `urn:uuid:${randomUUID()}`;
    const res = await bundle('transaction', [
      { fullUrl: urn, resource: { resourceType: 'Organization', name: 'A' }, request: { method: 'POST', url: 'Organization' } },
      { fullUrl: urn, resource: { resourceType: 'Organization', name: 'B' }, request: { method: 'POST', url: 'Organization' } },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['Bundle.entry[1].fullUrl']);
    expect(await count('Organization')).toBe(0);
  });

  test('a batch too; different versions of one resource may share it', async () => {
    const urn = `urn:uuid:${randomUUID()}`;
    const dup = await bundle('batch', [
      { fullUrl: urn, resource: { resourceType: 'Organization', name: 'A' }, request: { method: 'POST', url: 'Organization' } },
      { fullUrl: urn, resource: { resourceType: 'Organization', name: 'B' }, request: { method: 'POST', url: 'Organization' } },
    ]);
    expect(dup.status).toBe(400);
    expect(await count('Organization')).toBe(0);
    const url = 'http://localhost:8080/fhir/Organization/x';
    const versions = await bundle('batch', [
      { fullUrl: url, resource: { resourceType: 'Organization', name: 'A', meta: { versionId: '1' } }, request: { method: 'POST', url: 'Organization' } },
      { fullUrl: url, resource: { resourceType: 'Organization', name: 'B', meta: { versionId: '2' } }, request: { method: 'POST', url: 'Organization' } },
    ]);
    expect(versions.status).toBe(200);
  });
});

describe('urn:uuid in uri elements and narrative', () => {
  test('uri/url elements and narrative links that equal a fullUrl are replaced; strings are not', async () => {
    const pat = `urn:uuid:${randomUUID()}`;
    const doc = `urn:uuid:${randomUUID()}`;
    const other = `urn:uuid:${randomUUID()}`;
    const div = `<div xmlns="http://www.w3.org/1999/xhtml"><a href="${pat}">client</a> <a href="${other}">elsewhere</a></div>`;
    const res = await bundle('transaction', [
      { fullUrl: pat, resource: { resourceType: 'Patient', gender: 'female' }, request: { method: 'POST', url: 'Patient' } },
      {
        fullUrl: doc,
        resource: {
          resourceType: 'DocumentReference',
          status: 'current',
          subject: { reference: pat },
          identifier: [{ system: 'urn:ietf:rfc:3986', value: doc }],
          text: { status: 'generated', div },
          extension: [{ url: 'https://example.org/fhir/StructureDefinition/source', valueUri: pat }],
          content: [{ attachment: { contentType: 'text/plain', url: pat } }],
        },
        request: { method: 'POST', url: 'DocumentReference' },
      },
      {
        resource: {
          resourceType: 'Provenance',
          target: [{ reference: doc }],
          recorded: '2025-06-01T10:00:00Z',
          policy: [doc, 'https://example.org/policy'],
          agent: [{ who: { reference: 'Organization/test-org' } }],
        },
        request: { method: 'POST', url: 'Provenance' },
      },
    ]);
    expect(res.status).toBe(200);
    const [p, d, prov] = res.body.entry.map((e: { resource: { id: string } }) => e.resource);
    expect(d.content[0].attachment.url).toBe(`Patient/${p.id}`);
    expect(d.extension[0].valueUri).toBe(`Patient/${p.id}`);
    expect(d.text.div).toContain(`href="Patient/${p.id}"`);
    expect(d.text.div).toContain(`href="${other}"`); // no entry has it: left as written
    expect(d.identifier[0].value).toBe(doc); // Identifier.value is a string, not a link
    expect(prov.policy).toEqual([`DocumentReference/${d.id}`, 'https://example.org/policy']);
    expect(prov.target[0].reference).toBe(`DocumentReference/${d.id}`);
    const stored = await t.http.get(`/fhir/DocumentReference/${d.id}`);
    expect(stored.body.content[0].attachment.url).toBe(`Patient/${p.id}`);
  });
});
