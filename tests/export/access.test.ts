/** Who exports what: the access policy's visibility decides, organisation by organisation. */
import { type ExportApp, kickOff, rawOutput, downloadAll, startExportApp, waitForManifest } from './app';
import { type Client, client, observation, organization } from './data';

const A = 'org-a';
const B = 'org-b';

// Both page readers: parsed search pages, and the SQLite raw page reader (stored JSON text).
describe.each([['search pages', false], ['raw pages', true]])('export access (%s)', (_name, rawPages) => {
  let t: ExportApp;
  let a: Client[];
  let b: Client[];
  let bObs: string;
  beforeAll(async () => {
    t = startExportApp({ rawPages });
    await organization(t.as(['admin'], A), A);
    await organization(t.as(['admin'], B), B);
    a = [await client(t.as(['clinician'], A)), await client(t.as(['clinician'], A))];
    b = [await client(t.as(['clinician'], B))];
    await observation(t.as(['clinician'], A), a[0]!.id, '2024-05-01T08:00:00Z');
    bObs = await observation(t.as(['clinician'], B), b[0]!.id, '2024-05-02T08:00:00Z');
    const consent = await t.as(['clinician'], B).post('/fhir/Consent').send({
      resourceType: 'Consent', status: 'active', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }], patient: { reference: `Patient/${b[0]!.id}` }, provision: { type: 'permit' },
    });
    if (consent.status !== 201) throw new Error(consent.text);
  });
  afterAll(() => t.close());

  test("org A's clinician export contains none of org B's data", async () => {
    const clin = t.as(['clinician'], A);
    const manifest = await waitForManifest(clin, await kickOff(clin));
    const text = await rawOutput(clin, manifest);
    for (const c of b) {
      expect(text).not.toContain(c.id);
      expect(text).not.toContain(c.code);
    }
    expect(text).not.toContain(bObs);
    const files = await downloadAll(clin, manifest);
    expect(files.get('Patient')!.map((p) => p.id).sort()).toEqual(a.map((c) => c.id).sort());
    expect(files.get('Observation')).toHaveLength(1);
    expect(files.has('Consent')).toBe(false);
    // Shared directory data is visible to everyone, as through the REST API.
    expect(files.get('Organization')!.map((o) => o.id).sort()).toEqual([A, B]);
    expect(files.has('AuditEvent')).toBe(false);
  });

  test('AuditEvents are never exported, even by a user who is also an auditor', async () => {
    const both = t.as(['clinician', 'auditor'], A);
    const refused = await both.get('/fhir/$export?_type=AuditEvent').set({ Prefer: 'respond-async', Accept: 'application/fhir+json' });
    expect(refused.status).toBe(403);
    const manifest = await waitForManifest(both, await kickOff(both));
    expect(manifest.output.map((o) => o.type)).not.toContain('AuditEvent');
    expect(manifest.output.map((o) => o.type)).toContain('Patient');
  });

  test("Patient-level: org B's clinician gets B's client and compartment, with the Consent B holds", async () => {
    const clin = t.as(['clinician'], B);
    const files = await downloadAll(clin, await waitForManifest(clin, await kickOff(clin, '/fhir/Patient/$export')));
    expect(files.get('Patient')!.map((p) => p.id)).toEqual([b[0]!.id]);
    expect(files.get('Observation')!.map((o) => o.id)).toEqual([bObs]);
    expect(files.get('Consent')).toHaveLength(1);
  });

  test('an admin exports what an admin may read: clients and the directory, no clinical data', async () => {
    const admin = t.as(['admin'], A);
    const manifest = await waitForManifest(admin, await kickOff(admin));
    const types = manifest.output.map((o) => o.type);
    expect(types).toContain('Patient');
    expect(types).not.toContain('Observation');
    const files = await downloadAll(admin, manifest);
    expect(files.get('Patient')).toHaveLength(2);
  });

  test('a group of another organisation cannot be exported (404, as if absent)', async () => {
    const group = await t.as(['clinician'], B).post('/fhir/Group').send({ resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: `Patient/${b[0]!.id}` } }] });
    expect(group.status).toBe(201);
    const res = await t.as(['clinician'], A).get(`/fhir/Group/${group.body.id}/$export`).set({ Prefer: 'respond-async' });
    expect(res.status).toBe(404);
  });
});
