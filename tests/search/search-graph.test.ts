/** Chains, _has, includes, sort, paging, totals, system and compartment search, $everything. */
import { BASE, FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { Named } from '../helpers/named';

let t: TestApp;
const named = new Named(() => t);
const ids = named.ids;
const put = (name: string, body: object) => named.create(name, body);

const label = (id: string): string => named.label(id);

async function bundle(query: string) {
  const res = await t.http.get(`/fhir/${query}`);
  if (res.status !== 200) throw new Error(`${query}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { total?: number; entry?: { search: { mode: string }; resource: { id: string } }[]; link: { relation: string; url: string }[] };
}

async function matches(query: string): Promise<string[]> {
  return ((await bundle(query)).entry ?? []).filter((e) => e.search.mode === 'match').map((e) => label(e.resource.id)).sort();
}

async function included(query: string): Promise<string[]> {
  return ((await bundle(query)).entry ?? []).filter((e) => e.search.mode === 'include').map((e) => label(e.resource.id)).sort();
}

const CODE = 'https://linkcare.example.org/fhir/client-code';

beforeAll(async () => {
  t = startTestApp();
  await put('clinic', { resourceType: 'Organization', name: 'Clinic A' });
  await put('cbo', { resourceType: 'Organization', name: 'Community B', partOf: { reference: 'Organization/x-missing' } });
  await put('ana', { resourceType: 'Patient', gender: 'female', identifier: [{ system: CODE, value: 'AAA-111' }], managingOrganization: { reference: `Organization/${ids.clinic}` } });
  await put('bo', { resourceType: 'Patient', gender: 'male', identifier: [{ system: CODE, value: 'BBB-222' }], managingOrganization: { reference: `Organization/${ids.cbo}` } });
  await put('sr1', { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${ids.ana}` }, code: { text: 'PEP' } });
  await put('sr2', { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${ids.bo}` }, code: { text: 'PrEP' } });
  await put('task1', { resourceType: 'Task', status: 'requested', intent: 'order', focus: { reference: `ServiceRequest/${ids.sr1}` }, for: { reference: `Patient/${ids.ana}` }, owner: { reference: `Organization/${ids.clinic}` } });
  await put('task2', { resourceType: 'Task', status: 'accepted', intent: 'order', focus: { reference: `ServiceRequest/${ids.sr2}` }, for: { reference: `Patient/${ids.bo}` }, owner: { reference: `Organization/${ids.clinic}` } });
  await put('obs1', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '23876-6' }] }, subject: { reference: `Patient/${ids.ana}` } });
  await put('obs2', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '49905-3' }] }, subject: { reference: `Patient/${ids.bo}` }, hasMember: [{ reference: `Observation/${ids.obs1}` }] });
  await put('prov', { resourceType: 'Provenance', target: [{ reference: `Task/${ids.task1}` }], recorded: '2024-01-01T00:00:00Z', agent: [{ who: { reference: `Organization/${ids.cbo}` } }] });
  await put('enc', { resourceType: 'Encounter', status: 'finished', class: { code: 'FLD' }, subject: { reference: `Patient/${ids.ana}` }, serviceProvider: { reference: `Organization/${ids.cbo}` } });
});
afterAll(() => t.close());

describe('chained parameters', () => {
  test('one level', async () => {
    expect(await matches(`Observation?subject:Patient.identifier=${CODE}|AAA-111`)).toEqual(['obs1']);
    expect(await matches('Observation?patient.gender=male')).toEqual(['obs2']);
    expect(await matches('Patient?organization.name=community')).toEqual(['bo']);
  });

  test('two levels: Task → ServiceRequest → Patient.identifier', async () => {
    expect(await matches('Task?focus:ServiceRequest.subject:Patient.identifier=BBB-222')).toEqual(['task2']);
    expect(await matches('Task?focus:ServiceRequest.patient.identifier=AAA-111')).toEqual(['task1']);
    expect(await matches('Task?focus:ServiceRequest.subject:Patient.identifier=nobody')).toEqual([]);
  });

  test('chain combined with other parameters and OR values', async () => {
    expect(await matches('Task?focus:ServiceRequest.subject:Patient.identifier=AAA-111,BBB-222&status=accepted')).toEqual(['task2']);
  });

  test('chaining a non-reference or unknown parameter is refused or ignored', async () => {
    expect((await t.http.get('/fhir/Observation?status.name=x')).status).toBe(400);
    expect((await t.http.get('/fhir/Observation?subject:Patient.nonsense=x').set('Prefer', 'handling=strict')).status).toBe(400);
  });
});

describe('_has', () => {
  test('reverse chaining', async () => {
    expect(await matches('Patient?_has:Observation:patient:code=23876-6')).toEqual(['ana']);
    expect(await matches('Patient?_has:Task:patient:status=accepted')).toEqual(['bo']);
    expect(await matches('Organization?_has:Task:owner:status=requested')).toEqual(['clinic']);
  });

  test('nested _has', async () => {
    // Patients with a ServiceRequest that has a Task in status requested.
    expect(await matches('Patient?_has:ServiceRequest:subject:_has:Task:focus:status=requested')).toEqual(['ana']);
  });

  test('_has combined with a chain inside', async () => {
    expect(await matches('Organization?_has:Patient:organization:_has:Observation:patient:code=49905-3')).toEqual(['cbo']);
  });
});

describe('_include and _revinclude', () => {
  test('_include adds referenced resources marked include; not counted in total', async () => {
    const b = await bundle('Task?status=requested&_include=Task:focus');
    expect(b.total).toBe(1);
    expect(await included('Task?status=requested&_include=Task:focus')).toEqual(['sr1']);
    expect(await included('Task?status=requested&_include=Task:focus&_include=Task:owner')).toEqual(['clinic', 'sr1']);
    expect(await included('Task?status=requested&_include=Task:focus:Patient')).toEqual([]);
  });

  test(':iterate follows includes of includes', async () => {
    expect(await included('Task?status=requested&_include=Task:focus&_include:iterate=ServiceRequest:subject')).toEqual(['ana', 'sr1']);
    expect(await included('Task?status=requested&_include=Task:focus&_include=ServiceRequest:subject')).toEqual(['sr1']);
  });

  test('* includes every reference', async () => {
    expect(await included('Task?status=requested&_include=Task:*')).toEqual(['ana', 'clinic', 'sr1']);
  });

  test('_revinclude, also with :iterate', async () => {
    expect(await included('Task?_id=' + ids.task1 + '&_revinclude=Provenance:target')).toEqual(['prov']);
    expect(await included(`Patient?_id=${ids.ana}&_revinclude=Observation:subject`)).toEqual(['obs1']);
    expect(await included(`Patient?_id=${ids.bo}&_revinclude=Observation:subject&_revinclude:iterate=Observation:has-member`)).toEqual(['obs2']);
    expect(await included(`Patient?_id=${ids.ana}&_revinclude=Observation:subject&_revinclude:iterate=Observation:has-member`)).toEqual(['obs1', 'obs2']);
  });
});

describe('sort, paging and totals', () => {
  test('several sort keys with -', async () => {
    const b = await bundle('Task?_sort=status,-_lastUpdated');
    expect(b.entry!.map((e) => label(e.resource.id))).toEqual(['task2', 'task1']);
    const byGender = await bundle('Patient?_sort=-gender');
    expect(byGender.entry!.map((e) => label(e.resource.id))).toEqual(['bo', 'ana']);
  });

  test('_total modes and _summary=count', async () => {
    expect((await bundle('Observation?_total=accurate')).total).toBe(2);
    expect((await bundle('Observation?_total=estimate')).total).toBe(2);
    expect((await bundle('Observation?_total=none')).total).toBeUndefined();
    const c = await bundle('Observation?_summary=count&code=23876-6');
    expect(c.total).toBe(1);
    expect(c.entry).toBeUndefined();
  });

  test('paging by a parameter sort key neither skips nor repeats while inserts happen', async () => {
    const local = startTestApp();
    const names: string[] = [];
    for (let i = 0; i < 12; i++) {
      const name = `Org ${String.fromCharCode(75 + (i * 7) % 12)}${i}`;
      names.push(name);
      await local.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name }));
    }
    const seen: string[] = [];
    let url: string | undefined = '/fhir/Organization?_sort=name&_count=5';
    let k = 0;
    while (url) {
      const res = await local.http.get(url);
      seen.push(...(res.body.entry ?? []).map((e: { resource: { name: string } }) => e.resource.name));
      const next = res.body.link.find((l: { relation: string }) => l.relation === 'next');
      url = next ? `/fhir${(next.url as string).slice(BASE.length)}` : undefined;
      // An insert that sorts before the cursor and one after it.
      await local.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name: `AAA ${k}` }));
      await local.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name: `ZZZ ${k++}` }));
    }
    const original = seen.filter((n) => n.startsWith('Org'));
    expect(original).toEqual([...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.some((n) => n.startsWith('AAA'))).toBe(false);
    await local.close();
  });

  test('a tampered cursor is a 400', async () => {
    expect((await t.http.get('/fhir/Task?_cursor=garbage')).status).toBe(400);
  });
});

describe('system search, compartment search, $everything', () => {
  test('GET /fhir?_type=… searches several types with common parameters', async () => {
    expect(await matches(`?_type=Task,ServiceRequest&_id=${ids.task1},${ids.sr2}`)).toEqual(['sr2', 'task1']);
    const all = await bundle('?_type=Patient,Organization&_summary=count');
    expect(all.total).toBe(4);
    expect((await t.http.get('/fhir?_type=Nope')).status).toBe(400);
  });

  test('GET Patient/{id}/{type}', async () => {
    expect(await matches(`Patient/${ids.ana}/Observation`)).toEqual(['obs1']);
    expect(await matches(`Patient/${ids.ana}/Task?status=requested`)).toEqual(['task1']);
    expect(await matches(`Patient/${ids.bo}/Task?status=requested`)).toEqual([]);
    expect((await t.http.get('/fhir/Patient/nobody/Observation')).status).toBe(404);
    expect((await t.http.get(`/fhir/Patient/${ids.ana}/Organization`)).status).toBe(400);
  });

  test('Patient/{id}/$everything with _type, _since and _count paging', async () => {
    expect(await matches(`Patient/${ids.ana}/$everything`)).toEqual(['ana', 'enc', 'obs1', 'sr1', 'task1']);
    expect(await matches(`Patient/${ids.ana}/$everything?_type=Observation,Task`)).toEqual(['obs1', 'task1']);
    expect(await matches(`Patient/${ids.ana}/$everything?_since=2999-01-01T00:00:00Z`)).toEqual([]);
    const first = await bundle(`Patient/${ids.ana}/$everything?_count=2`);
    expect(first.entry).toHaveLength(2);
    const seen = first.entry!.map((e) => e.resource.id);
    let next = first.link.find((l) => l.relation === 'next')?.url;
    while (next) {
      const page = await bundle(next.slice(BASE.length + 1));
      seen.push(...page.entry!.map((e) => e.resource.id));
      next = page.link.find((l) => l.relation === 'next')?.url;
    }
    expect(seen.map(label).sort()).toEqual(['ana', 'enc', 'obs1', 'sr1', 'task1']);
  });
});

test('the CapabilityStatement declares the registry parameters', async () => {
  const res = await t.http.get('/fhir/metadata');
  const task = res.body.rest[0].resource.find((r: { type: string }) => r.type === 'Task');
  const codes = task.searchParam.map((p: { name: string }) => p.name);
  expect(codes).toEqual(expect.arrayContaining(['_id', '_lastUpdated', 'owner', 'status', 'focus', 'deadline']));
});
