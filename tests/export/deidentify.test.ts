/** De-identified exports for the reporting role, over HTTP: no client code, no exact date, no narrative. */
import { type ExportApp, downloadAll, kickOff, rawOutput, startExportApp, waitForManifest } from './app';
import { type Client, client, observation, organization } from './data';
import { EXPORT_TOKEN_SYSTEM } from '../../src/export/deidentify';
import { KEY_POPULATION_EXTENSION } from '../../src/privacy/operations';

const BIG = 'org-big';
const SMALL = 'org-small';
const DATES = ['2024-03-05T10:00:00Z', '2024-03-15T10:00:00Z'];

describe('de-identified export (reporting)', () => {
  let t: ExportApp;
  let big: Client[];
  let small: Client;
  beforeAll(async () => {
    t = startExportApp({ options: { smallSiteClients: 2 } });
    await organization(t.as(['admin'], BIG), BIG);
    await organization(t.as(['admin'], SMALL), SMALL);
    const kp = { extension: [{ url: KEY_POPULATION_EXTENSION, valueCoding: { system: 'http://snomed.info/sct', code: '449344001', display: 'Sex worker' } }] };
    big = [await client(t.as(['clinician'], BIG), { ...kp, managingOrganization: { reference: `Organization/${BIG}` } }), await client(t.as(['clinician'], BIG))];
    small = await client(t.as(['clinician'], SMALL), { managingOrganization: { reference: `Organization/${SMALL}` } });
    for (const d of DATES) await observation(t.as(['clinician'], BIG), big[0]!.id, d, BIG);
    await observation(t.as(['clinician'], SMALL), small.id, DATES[0]!, SMALL);
    const consent = await t.as(['clinician'], BIG).post('/fhir/Consent').send({
      resourceType: 'Consent', status: 'active', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }], patient: { reference: `Patient/${big[0]!.id}` }, provision: { type: 'permit' },
    });
    if (consent.status !== 201) throw new Error(consent.text);
  });
  afterAll(() => t.close());

  async function exportAs(query = ''): Promise<{ text: string; files: Map<string, Record<string, unknown>[]>; manifest: Awaited<ReturnType<typeof waitForManifest>> }> {
    const rep = t.as(['reporting'], 'ministry');
    const manifest = await waitForManifest(rep, await kickOff(rep, `/fhir/$export${query}`));
    return { text: await rawOutput(rep, manifest), files: await downloadAll(rep, manifest), manifest };
  }

  test('no client code, no source id, no exact date, no narrative or free text; Consent and AuditEvent never', async () => {
    const { text, files, manifest } = await exportAs();
    for (const c of [...big, small]) {
      expect(text).not.toContain(c.code);
      expect(text).not.toContain(c.id);
    }
    for (const d of DATES) expect(text).not.toContain(d.slice(0, 10));
    for (const word of ['drop-in centre', 'free text', 'workplace', 'the client', '"text"', '"note"', '"div"', '"meta"', '+1000']) expect(text).not.toContain(word);
    const types = manifest.output.map((o) => o.type);
    expect(types).toEqual(expect.arrayContaining(['Patient', 'Observation', 'Organization']));
    for (const never of ['Consent', 'AuditEvent', 'Practitioner', 'Communication', 'DocumentReference']) expect(types).not.toContain(never);
    expect(manifest.extension).toEqual({ 'https://linkcare.example.org/fhir/bulk/deidentified': { dateHandling: 'shift', withheld: 1 } });
    // Reporting sees every organisation's clients, each under a per-export token.
    const patients = files.get('Patient')!;
    expect(patients).toHaveLength(3);
    for (const p of patients) expect(p.identifier).toEqual([{ system: EXPORT_TOKEN_SYSTEM, value: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/) }]);
    expect(patients.map((p) => p.birthDate)).toEqual(['1994', '1994', '1994']);
    // The key population code survives (a standard disaggregation), its display does not.
    expect(patients.some((p) => JSON.stringify(p.extension) === JSON.stringify([{ url: KEY_POPULATION_EXTENSION, valueCoding: { system: 'http://snomed.info/sct', code: '449344001' } }]))).toBe(true);
  });

  test('links hold inside one export: observations point at their pseudonymous client; shifted dates keep intervals', async () => {
    const { files } = await exportAs();
    const ids = new Set(files.get('Patient')!.map((p) => p.id as string));
    const obs = files.get('Observation')!;
    for (const o of obs) expect(ids.has((o.subject as { reference: string }).reference.replace('Patient/', ''))).toBe(true);
    const bySubject = new Map<string, string[]>();
    for (const o of obs) bySubject.set((o.subject as { reference: string }).reference, [...(bySubject.get((o.subject as { reference: string }).reference) ?? []), o.effectiveDateTime as string]);
    const pair = [...bySubject.values()].find((d) => d.length === 2)!.map((d) => Date.parse(d)).sort();
    expect(pair[1]! - pair[0]!).toBe(10 * 86_400_000);
    expect(obs.every((o) => o.code && !(o.code as { text?: string }).text)).toBe(true);
  });

  test('small sites are generalised and their directory entries withheld; large sites stay named', async () => {
    const { files, text } = await exportAs();
    expect(files.get('Organization')!.map((o) => o.id)).toEqual([BIG]);
    expect(files.get('Organization')![0]).not.toHaveProperty('telecom');
    expect(text).not.toContain(SMALL);
    const performers = files.get('Observation')!.map((o) => (o.performer as object[])[0]);
    expect(performers).toEqual(expect.arrayContaining([{ reference: `Organization/${BIG}` }, { display: 'small site (generalised)' }]));
  });

  test('two exports use different tokens and ids: nothing links them', async () => {
    const one = (await exportAs('?_type=Patient')).files.get('Patient')!.map((p) => p.id).sort();
    const two = (await exportAs('?_type=Patient')).files.get('Patient')!.map((p) => p.id).sort();
    expect(one.filter((id) => two.includes(id))).toEqual([]);
  });

  test('dateHandling=month cuts dates to the month', async () => {
    const { files } = await exportAs('?_type=Observation&dateHandling=month');
    expect(files.get('Observation')!.map((o) => o.effectiveDateTime).sort()).toEqual(['2024-03', '2024-03', '2024-03']);
  });

  test('reporting cannot ask for withheld types; clinicians cannot ask for dateHandling', async () => {
    const prefer = { Prefer: 'respond-async' };
    expect((await t.as(['reporting'], 'ministry').get('/fhir/$export?_type=Consent').set(prefer)).status).toBe(403);
    expect((await t.as(['reporting'], 'ministry').get('/fhir/$export?_type=AuditEvent').set(prefer)).status).toBe(403);
    expect((await t.as(['clinician'], BIG).get('/fhir/$export?dateHandling=month').set(prefer)).status).toBe(400);
  });

  test('the per-export key is dropped when the export completes', async () => {
    const rep = t.as(['reporting'], 'ministry');
    const status = await kickOff(rep, '/fhir/$export?_type=Patient');
    await waitForManifest(rep, status);
    const job = await t.store.getJob(status.split('/').pop()!);
    expect(job!.payload).not.toHaveProperty('secret');
  });
});

describe('de-identified export: free text and identifiers go by their FHIR type, whatever the element is called', () => {
  let t: ExportApp;
  beforeAll(async () => {
    t = startExportApp({ options: { smallSiteClients: 1 } });
    const clin = t.as(['clinician'], BIG);
    await organization(t.as(['admin'], BIG), BIG);
    const c = await client(clin, { managingOrganization: { reference: `Organization/${BIG}` } });
    const subject = { reference: `Patient/${c.id}` };
    const writes = [
      {
        resourceType: 'Task', status: 'requested', intent: 'order', for: subject,
        code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'approve' }] },
        input: [
          { type: { text: 'phone' }, valueContactPoint: { system: 'phone', value: '+254700111222' } },
          { type: { text: 'name' }, valueHumanName: { text: 'Wanjiru Kamau', family: 'Kamau' } },
          { type: { text: 'home' }, valueAddress: { line: ['House 12, Mathare North'], city: 'Nairobi' } },
          { type: { text: 'id' }, valueIdentifier: { system: 'https://example.org/nid', value: 'NID-12345678' } },
          { type: { text: 'word' }, valueCode: 'Wanjiru-Kamau' },
          { type: { text: 'count' }, valueQuantity: { value: 3, unit: 'visits' } },
        ],
      },
      {
        resourceType: 'Condition', subject, onsetString: 'after an assault near the station',
        code: { coding: [{ system: 'http://snomed.info/sct', code: '86406008' }] },
        abatementString: 'when she moved to Kisumu',
      },
      {
        resourceType: 'Specimen', subject, accessionIdentifier: { system: 'https://lab.example.org', value: 'LAB-998877' },
        type: { coding: [{ system: 'http://snomed.info/sct', code: '119297000' }] },
      },
    ];
    for (const body of writes) {
      const res = await clin.post(`/fhir/${body.resourceType}`).send(body);
      if (res.status !== 201) throw new Error(`${body.resourceType}: ${res.status} ${res.text}`);
    }
  });
  afterAll(() => t.close());

  test('contact points, names, addresses, identifiers, token choices and *String elements are dropped; codes and quantities stay', async () => {
    const rep = t.as(['reporting'], 'ministry');
    const manifest = await waitForManifest(rep, await kickOff(rep, '/fhir/$export?_type=Task,Condition,Specimen'));
    const text = await rawOutput(rep, manifest);
    for (const leak of ['+254700111222', 'Wanjiru', 'Kamau', 'Mathare', 'Nairobi', 'NID-12345678', 'assault', 'Kisumu', 'LAB-998877']) {
      expect({ leak, found: text.includes(leak) }).toEqual({ leak, found: false });
    }
    const files = await downloadAll(rep, manifest);
    const task = files.get('Task')![0] as { status: string; input: { valueQuantity?: { value: number; unit: string } }[] };
    expect(task.status).toBe('requested');
    expect(task.input.map((i) => i.valueQuantity).filter(Boolean)).toEqual([{ value: 3, unit: 'visits' }]);
    expect((files.get('Condition')![0] as { code: { coding: { code: string }[] } }).code.coding[0]!.code).toBe('86406008');
    expect((files.get('Specimen')![0] as { type: { coding: { code: string }[] } }).type.coding[0]!.code).toBe('119297000');
  });
});
