/**
 * The access matrix of docs/security.md, checked over HTTP cell by cell: roles × own/other
 * organisation × kinds of data × RESTful interactions, then the paths around it that could leak
 * what a read refuses (includes, chains, _has, history, multi-type search, bundles) and SMART
 * scopes narrowing a role.
 *
 * The expected table below is copied by hand from docs/security.md, not imported from src, so a
 * wrong implementation of the policy fails here.
 */
import type { Response } from 'supertest';
import type { Role } from '../../src/auth/principal';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

type Letter = 'c' | 'r' | 'u' | 'd' | 's';
type Kind = 'directory' | 'knowledge' | 'client' | 'outreach' | 'referral' | 'clinical' | 'aggregate' | 'audit';
type Side = 'own' | 'other';
type Interaction = 'create' | 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'search' | 'history-instance' | 'history-type';
type Agent = ReturnType<TestApp['as']>;

const ROLES: Role[] = ['clinician', 'outreach', 'reporting', 'admin', 'auditor'];

/** docs/security.md, "The access matrix": SMART letters per kind of data and role ('' = a dash = 403). */
const SPEC: Record<Kind, Record<Role, string>> = {
  directory: { clinician: 'rs', outreach: 'rs', reporting: 'rs', admin: 'cruds', auditor: 'rs' },
  knowledge: { clinician: 'rs', outreach: 'rs', reporting: 'rs', admin: 'cruds', auditor: '' },
  client: { clinician: 'crus', outreach: 'crus', reporting: '', admin: 'rs', auditor: '' },
  outreach: { clinician: 'cruds', outreach: 'cruds', reporting: '', admin: '', auditor: '' },
  referral: { clinician: 'cruds', outreach: 'cruds', reporting: '', admin: '', auditor: '' },
  clinical: { clinician: 'cruds', outreach: '', reporting: '', admin: '', auditor: '' },
  aggregate: { clinician: 'rs', outreach: '', reporting: 'rs', admin: 'rs', auditor: '' },
  audit: { clinician: '', outreach: '', reporting: '', admin: '', auditor: 'rs' },
};

/** Directory and knowledge resources are shared by all organisations; everything else is held. */
const SHARED: ReadonlySet<Kind> = new Set<Kind>(['directory', 'knowledge']);

/** The resource types standing for each kind, and the element naming the client (compartment). */
const TYPES: { type: string; kind: Kind; clientRef?: string }[] = [
  { type: 'Organization', kind: 'directory' },
  { type: 'Questionnaire', kind: 'knowledge' },
  { type: 'Patient', kind: 'client' },
  { type: 'Encounter', kind: 'outreach', clientRef: 'subject' },
  { type: 'ServiceRequest', kind: 'referral', clientRef: 'subject' },
  { type: 'Task', kind: 'referral', clientRef: 'for' },
  { type: 'Observation', kind: 'clinical', clientRef: 'subject' },
  { type: 'MeasureReport', kind: 'aggregate' },
  { type: 'AuditEvent', kind: 'audit' },
];

/** Which permission letter each interaction needs. */
const LETTER: Record<Interaction, Letter> = {
  create: 'c',
  read: 'r',
  vread: 'r',
  'history-instance': 'r',
  update: 'u',
  patch: 'u',
  delete: 'd',
  search: 's',
  'history-type': 's',
};
const INTERACTIONS = Object.keys(LETTER) as Interaction[];
const WRITES: ReadonlySet<Interaction> = new Set<Interaction>(['create', 'update', 'patch', 'delete']);

/** The caller's organisation: every target resource is held by org-a (or is org-a's client). */
const ORG: Record<Side, string> = { own: 'org-a', other: 'org-b' };

type Expect =
  | 'created' // 201
  | 'unknown-client' // 422 "not known to your organisation"
  | 'ok' // 200, visible
  | 'hidden' // invisible: 404 / not in results / delete "did not exist"
  | 'forbidden' // 403 OperationOutcome code forbidden
  | 'server-owned' // 405: AuditEvent is written by the server only
  | 'refused'; // 403 or 405: a role without AuditEvent permission writing one

interface Cell {
  name: string;
  role: Role;
  side: Side;
  type: string;
  kind: Kind;
  clientRef?: string;
  interaction: Interaction;
  expect: Expect;
}

/** The expected answer of one cell, from SPEC alone (undefined: the doc does not say). */
function expectationOf(role: Role, side: Side, kind: Kind, interaction: Interaction, clientRef?: string): Expect | undefined {
  if (kind === 'audit' && WRITES.has(interaction)) return role === 'auditor' ? 'server-owned' : 'refused';
  if (!SPEC[kind][role].includes(LETTER[interaction])) return 'forbidden';
  if (interaction === 'create') return side === 'other' && clientRef ? 'unknown-client' : 'created';
  if (SHARED.has(kind)) {
    // Whether one organisation's admin may change a shared resource another's admin wrote is not
    // settled by the doc ("held" is defined only for non-shared data): no expectation.
    if (side === 'other' && WRITES.has(interaction)) return undefined;
    return 'ok';
  }
  return side === 'own' ? 'ok' : 'hidden';
}

const CELLS: Cell[] = [];
for (const role of ROLES) {
  for (const side of ['own', 'other'] as Side[]) {
    for (const { type, kind, clientRef } of TYPES) {
      for (const interaction of INTERACTIONS) {
        const outcome = expectationOf(role, side, kind, interaction, clientRef);
        if (!outcome) continue;
        CELLS.push({ name: `${role}@${side} org: ${type} ${interaction} → ${outcome}`, role, side, type, kind, clientRef, interaction, expect: outcome });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

let t: TestApp;
/** clinician+admin callers of each organisation: they write the fixtures. */
let ownerA: Agent;
let ownerB: Agent;
let auditorA: Agent;

/** Fixture ids per type and holding organisation. */
const fx: Record<string, Record<string, string>> = {};
/** Extra fixtures for the graph, by name. */
const g: Record<string, string> = {};
/** `Type/id` → organisation holding it (non-shared, non-Patient types). */
const heldBy = new Map<string, string>();
/** Patient id → organisations where the client is enrolled. */
const enrolled = new Map<string, Set<string>>();

const TEST_SYSTEM = 'https://linkcare.example.org/fhir/test-code';
const LOINC = 'http://loinc.org';
let serial = 0;

/** A valid body of `type`, about `clientId` when the type is in a client's compartment. */
function bodyFor(type: string, clientId: string): Record<string, unknown> {
  const client = { reference: `Patient/${clientId}` };
  serial += 1;
  switch (type) {
    case 'Organization':
      return { resourceType: type, name: `Matrix organisation ${serial}` };
    case 'Questionnaire':
      return { resourceType: type, status: 'active', title: `Matrix screening ${serial}` };
    case 'Patient':
      return { resourceType: type, gender: 'female', birthDate: '1990' };
    case 'Encounter':
      return { resourceType: type, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'FLD' }, subject: client };
    case 'ServiceRequest':
      return { resourceType: type, status: 'active', intent: 'order', code: { text: 'PrEP initiation' }, subject: client };
    case 'Task':
      return { resourceType: type, status: 'requested', intent: 'order', for: client };
    case 'Observation':
      return { resourceType: type, status: 'final', code: { coding: [{ system: LOINC, code: '25836-8' }] }, subject: client };
    case 'MeasureReport':
      return {
        resourceType: type,
        status: 'complete',
        type: 'summary',
        measure: 'https://linkcare.example.org/fhir/Measure/hts-tested',
        period: { start: '2025-01-01', end: '2025-03-31' },
        group: [{ population: [{ count: 12 }] }],
      };
    case 'AuditEvent':
      return {
        resourceType: type,
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
        recorded: new Date().toISOString(),
        outcomeDesc: 'forged by a test',
        agent: [{ requestor: true, who: { reference: 'Organization/org-a' } }],
        source: { observer: { display: 'forger' } },
      };
    default:
      throw new Error(`no body for ${type}`);
  }
}

const post = (agent: Agent, type: string, body: object) => agent.post(`/fhir/${type}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
const postBundle = (agent: Agent, body: object) => agent.post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(body));

function remember(type: string, id: string, org: string): void {
  if (type === 'Patient') {
    const set = enrolled.get(id) ?? new Set<string>();
    set.add(org);
    enrolled.set(id, set);
  } else if (!['Organization', 'Questionnaire'].includes(type)) {
    heldBy.set(`${type}/${id}`, org);
  }
}

/** Creates through the API and remembers who holds the result. */
async function create(agent: Agent, org: string, body: Record<string, unknown>): Promise<string> {
  const type = body.resourceType as string;
  const res = await post(agent, type, body);
  if (res.status !== 201) throw new Error(`setup: creating ${type} at ${org}: ${res.status} ${JSON.stringify(res.body)}`);
  remember(type, res.body.id, org);
  return res.body.id as string;
}

/**
 * MeasureReport: no role has create on the aggregate kind (it is produced by the reporting
 * pipeline), so the fixtures are written straight into the store, held by `org`.
 */
async function seedMeasureReport(org: string): Promise<string> {
  serial += 1;
  const id = `mr-${org}-${serial}`;
  await t.store.unitOfWork((tx) => tx.put({ ...(bodyFor('MeasureReport', '') as object), id } as never, { custodian: org, method: 'POST' }));
  remember('MeasureReport', id, org);
  return id;
}

async function register(org: string, uic: string): Promise<string> {
  const res = await t
    .as(['clinician', 'admin'], org)
    .post('/fhir/Patient/$register')
    .set('Content-Type', FHIR_JSON)
    .send(
      JSON.stringify({
        resourceType: 'Parameters',
        parameter: [
          { name: 'uic', valueString: uic },
          { name: 'birthYear', valueInteger: 1995 },
          { name: 'gender', valueCode: 'female' },
        ],
      }),
    );
  if (res.status !== 201 && res.status !== 200) throw new Error(`setup: $register at ${org}: ${res.status} ${JSON.stringify(res.body)}`);
  remember('Patient', res.body.id, org);
  return res.body.id as string;
}

/** A fresh resource of `type` held by org-a (about org-a's client), for cells that change it. */
async function freshTarget(type: string): Promise<string> {
  switch (type) {
    case 'AuditEvent':
      return fx.AuditEvent!['org-a']!;
    case 'MeasureReport':
      return seedMeasureReport('org-a');
    case 'Organization':
    case 'Questionnaire':
      return create(t.as(['admin'], 'org-a'), 'org-a', bodyFor(type, ''));
    default:
      return create(ownerA, 'org-a', bodyFor(type, fx.Patient!['org-a']!));
  }
}

/** Reads as org-a's own staff (AuditEvent: org-a's auditor), to see what a cell changed. */
const readAsOwner = (type: string, id: string) => (type === 'AuditEvent' ? auditorA : ownerA).get(`/fhir/${type}/${id}`);

// ---------------------------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------------------------

interface Entry {
  fullUrl?: string;
  resource?: { resourceType: string; id: string; agent?: { who?: { reference?: string } }[] };
  request?: { url?: string };
  search?: { mode?: string };
  response?: { status?: string };
}

function entriesOf(res: Response): Entry[] {
  return (res.body?.entry ?? []) as Entry[];
}

/** `Type/id` of an entry, from its resource or its URLs. */
function refOf(e: Entry): string {
  if (e.resource) return `${e.resource.resourceType}/${e.resource.id}`;
  const url = e.fullUrl ?? e.request?.url ?? '';
  const m = /([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : url;
}

/** The entries of a result that the caller's organisation must never see (held or enrolled elsewhere). */
function foreign(entries: Entry[], org: string): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const ref = refOf(e);
    const [type, id] = ref.split('/') as [string, string];
    if (type === 'AuditEvent') {
      const orgs = (e.resource?.agent ?? []).map((a) => a.who?.reference).filter((r): r is string => !!r?.startsWith('Organization/'));
      if (e.resource && !orgs.includes(`Organization/${org}`)) out.push(ref);
    } else if (type === 'Patient') {
      const at = enrolled.get(id);
      if (at && !at.has(org)) out.push(ref);
    } else {
      const holder = heldBy.get(ref);
      if (holder && holder !== org) out.push(ref);
    }
  }
  return out;
}

function ids(res: Response, mode?: string): string[] {
  return entriesOf(res)
    .filter((e) => !mode || e.search?.mode === mode)
    .map(refOf)
    .sort();
}

function expectForbidden(res: Response): void {
  expect({ status: res.status, code: res.body?.issue?.[0]?.code, type: res.body?.resourceType }).toEqual({ status: 403, code: 'forbidden', type: 'OperationOutcome' });
}

/** Checks a refusal (403 / 405) and returns whether the cell's expectation is a refusal at all. */
function checkRefusal(res: Response, expected: Expect): boolean {
  if (expected === 'forbidden') expectForbidden(res);
  else if (expected === 'server-owned') expect(res.status).toBe(405);
  else if (expected === 'refused') expect([403, 405]).toContain(res.status);
  else return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Setup: two organisations, their clients and data; shared resources from org-a's admin.
// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  t = startTestApp();
  ownerA = t.as(['clinician', 'admin'], 'org-a');
  ownerB = t.as(['clinician', 'admin'], 'org-b');
  auditorA = t.as(['auditor'], 'org-a');
  const owners: Record<string, Agent> = { 'org-a': ownerA, 'org-b': ownerB };
  for (const { type } of TYPES) fx[type] = {};

  const adminA = t.as(['admin'], 'org-a');
  fx.Organization!['org-a'] = await create(adminA, 'org-a', bodyFor('Organization', ''));
  fx.Questionnaire!['org-a'] = await create(adminA, 'org-a', bodyFor('Questionnaire', ''));

  for (const org of ['org-a', 'org-b']) {
    const owner = owners[org]!;
    const patient = await create(owner, org, bodyFor('Patient', ''));
    fx.Patient![org] = patient;
    fx.Encounter![org] = await create(owner, org, bodyFor('Encounter', patient));
    fx.ServiceRequest![org] = await create(owner, org, bodyFor('ServiceRequest', patient));
    fx.Task![org] = await create(owner, org, { ...bodyFor('Task', patient), focus: { reference: `ServiceRequest/${fx.ServiceRequest![org]}` } });
    fx.Observation![org] = await create(owner, org, bodyFor('Observation', patient));
    fx.MeasureReport![org] = await seedMeasureReport(org);
  }

  // The graph: a client enrolled at both organisations, with data from each; org-b data pointing
  // at org-a data; org-a data pointing at clinical data.
  g.shared = await register('org-a', 'matrix-shared 01021995');
  expect(await register('org-b', 'matrix-shared 01021995')).toBe(g.shared);
  g.obsAShared = await create(ownerA, 'org-a', { ...bodyFor('Observation', g.shared), status: 'final', code: { coding: [{ system: TEST_SYSTEM, code: 'shared-a' }] } });
  g.obsBShared = await create(ownerB, 'org-b', { ...bodyFor('Observation', g.shared), status: 'preliminary', code: { coding: [{ system: TEST_SYSTEM, code: 'shared-b' }] } });
  g.taskBtoA = await create(ownerB, 'org-b', { ...bodyFor('Task', fx.Patient!['org-b']!), status: 'received', focus: { reference: `ServiceRequest/${fx.ServiceRequest!['org-a']}` } });
  g.taskAtoObs = await create(ownerA, 'org-a', { ...bodyFor('Task', fx.Patient!['org-a']!), status: 'accepted', focus: { reference: `Observation/${fx.Observation!['org-a']}` } });

  // AuditEvents: written by the server for the requests above; one per organisation.
  for (const org of ['org-a', 'org-b']) {
    const res = await t.as(['auditor'], org).get('/fhir/AuditEvent?_count=1');
    if (res.status !== 200 || !res.body.entry?.length) throw new Error(`setup: no AuditEvent for ${org}: ${res.status} ${JSON.stringify(res.body)}`);
    fx.AuditEvent![org] = res.body.entry[0].resource.id;
  }
});
afterAll(() => t.close());

// ---------------------------------------------------------------------------------------------
// Leaks around the matrix (run before the matrix cells so histories stay small)
// ---------------------------------------------------------------------------------------------

describe('org-b clinician never reaches org-a data through the graph', () => {
  const clinB = () => t.as(['clinician'], 'org-b');

  test('org-a Patient: read 404, Patient?_id total 0 (also _summary=count)', async () => {
    expect((await clinB().get(`/fhir/Patient/${fx.Patient!['org-a']}`)).status).toBe(404);
    const s = await clinB().get(`/fhir/Patient?_id=${fx.Patient!['org-a']}`);
    expect(s.status).toBe(200);
    expect(s.body.total).toBe(0);
    expect(s.body.entry ?? []).toEqual([]);
    expect((await clinB().get(`/fhir/Patient?_id=${fx.Patient!['org-a']}&_summary=count`)).body.total).toBe(0);
  });

  const graphCases: [string, () => string, (res: Response) => void][] = [
    ['Task?_include=Task:focus', () => 'Task?_include=Task:focus&_count=1000', (res) => {
      expect(ids(res, 'match')).toContain(`Task/${g.taskBtoA}`);
      expect(ids(res, 'include')).toContain(`ServiceRequest/${fx.ServiceRequest!['org-b']}`);
    }],
    ['Task?_id=<org-b task → org-a ServiceRequest>&_include=Task:focus includes nothing', () => `Task?_id=${g.taskBtoA}&_include=Task:focus`, (res) => {
      expect(ids(res, 'match')).toEqual([`Task/${g.taskBtoA}`]);
      expect(ids(res, 'include')).toEqual([]);
    }],
    ['Task?_include=Task:*', () => 'Task?_include=Task:*&_count=1000', () => undefined],
    ['Task?_include=Task:focus&_include:iterate=ServiceRequest:subject', () => 'Task?_include=Task:focus&_include:iterate=ServiceRequest:subject&_count=1000', () => undefined],
    ['Patient?_revinclude=Observation:subject', () => 'Patient?_revinclude=Observation:subject&_count=1000', (res) => {
      expect(ids(res, 'include')).toContain(`Observation/${g.obsBShared}`);
    }],
    ['Patient?_id=<shared client>&_revinclude=Observation:subject: only org-b observation', () => `Patient?_id=${g.shared}&_revinclude=Observation:subject`, (res) => {
      expect(ids(res, 'match')).toEqual([`Patient/${g.shared}`]);
      expect(ids(res, 'include')).toEqual([`Observation/${g.obsBShared}`]);
    }],
    ['ServiceRequest?_revinclude=Task:focus', () => 'ServiceRequest?_revinclude=Task:focus&_count=1000', () => undefined],
    ['Observation?subject:Patient.gender=female', () => 'Observation?subject:Patient.gender=female&_count=1000', (res) => {
      expect(ids(res, 'match')).toEqual(expect.arrayContaining([`Observation/${fx.Observation!['org-b']}`, `Observation/${g.obsBShared}`]));
    }],
    ['Observation?patient.gender=female', () => 'Observation?patient.gender=female&_count=1000', () => undefined],
    ['Task?focus:ServiceRequest.status=active does not match through org-a ServiceRequest', () => 'Task?focus:ServiceRequest.status=active&_count=1000', (res) => {
      expect(ids(res, 'match')).toEqual([`Task/${fx.Task!['org-b']}`]);
    }],
    ['Task?focus:ServiceRequest.subject:Patient.gender=female', () => 'Task?focus:ServiceRequest.subject:Patient.gender=female&_count=1000', (res) => {
      expect(ids(res, 'match')).toEqual([`Task/${fx.Task!['org-b']}`]);
    }],
    ['Patient?_has:Observation:subject:status=final: not the shared client (only org-a has a final result)', () => 'Patient?_has:Observation:subject:status=final&_count=1000', (res) => {
      expect(ids(res, 'match')).toEqual([`Patient/${fx.Patient!['org-b']}`]);
    }],
    ['Patient?_has:Observation:subject:code=shared-a', () => `Patient?_has:Observation:subject:code=${TEST_SYSTEM}|shared-a`, (res) => {
      expect(res.body.total).toBe(0);
    }],
    ['ServiceRequest?_has:Task:focus:status=received (an org-b Task on an org-a ServiceRequest)', () => 'ServiceRequest?_has:Task:focus:status=received', (res) => {
      expect(ids(res, 'match')).toEqual([]);
    }],
    ['Observation?_summary=count excludes org-a', () => 'Observation?_summary=count', (res) => {
      expect(res.body.total).toBe(2);
    }],
    ['Patient?_summary=count excludes org-a', () => 'Patient?_summary=count', (res) => {
      expect(res.body.total).toBe(2);
    }],
    ['GET /fhir?_type=Observation,Patient', () => '?_type=Observation,Patient&_count=1000', (res) => {
      expect(ids(res, 'match')).toEqual(
        [`Observation/${fx.Observation!['org-b']}`, `Observation/${g.obsBShared}`, `Patient/${fx.Patient!['org-b']}`, `Patient/${g.shared}`].sort(),
      );
    }],
    ['GET /fhir?_type=Observation,Patient&_summary=count', () => '?_type=Observation,Patient&_summary=count', (res) => {
      expect(res.body.total).toBe(4);
    }],
    ['system history /fhir/_history', () => '_history?_count=1000', (res) => {
      expect(ids(res)).toEqual(expect.arrayContaining([`Observation/${fx.Observation!['org-b']}`]));
      expect(ids(res).filter((r) => r.startsWith('AuditEvent/'))).toEqual([]);
    }],
    ['type history /fhir/Observation/_history', () => 'Observation/_history?_count=1000', (res) => {
      expect(ids(res)).toEqual([`Observation/${fx.Observation!['org-b']}`, `Observation/${g.obsBShared}`].sort());
    }],
    ['type history /fhir/Patient/_history', () => 'Patient/_history?_count=1000', (res) => {
      expect(ids(res)).not.toContain(`Patient/${fx.Patient!['org-a']}`);
    }],
    ['type history /fhir/Task/_history', () => 'Task/_history?_count=1000', (res) => {
      expect(ids(res)).not.toContain(`Task/${fx.Task!['org-a']}`);
    }],
  ];

  test.each(graphCases)('%s: 200 and nothing of org-a', async (_name, query, extra) => {
    const res = await clinB().get(`/fhir/${query()}`);
    expect(res.status).toBe(200);
    expect(foreign(entriesOf(res), 'org-b')).toEqual([]);
    extra(res);
  });

  test('org-a positive control: the shared client does match _has through org-a data', async () => {
    const res = await t.as(['clinician'], 'org-a').get(`/fhir/Patient?_id=${g.shared}&_has:Observation:subject:status=final`);
    expect(ids(res, 'match')).toEqual([`Patient/${g.shared}`]);
  });

  test('writing about org-a\'s client: Observation subject Patient/<org-a> → 422', async () => {
    const res = await post(clinB(), 'Observation', bodyFor('Observation', fx.Patient!['org-a']!));
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain('not known to your organisation');
  });
});

describe('outreach', () => {
  const outA = () => t.as(['outreach'], 'org-a');

  test.each([
    ['reads own Patient', async () => expect((await outA().get(`/fhir/Patient/${fx.Patient!['org-a']}`)).status).toBe(200)],
    ['registers a Patient', async () => expect((await post(outA(), 'Patient', bodyFor('Patient', ''))).status).toBe(201)],
    ['writes an Encounter', async () => expect((await post(outA(), 'Encounter', bodyFor('Encounter', fx.Patient!['org-a']!))).status).toBe(201)],
    ['writes a Task', async () => expect((await post(outA(), 'Task', bodyFor('Task', fx.Patient!['org-a']!))).status).toBe(201)],
    ['writes a ServiceRequest', async () => expect((await post(outA(), 'ServiceRequest', bodyFor('ServiceRequest', fx.Patient!['org-a']!))).status).toBe(201)],
    ['reads own Encounter, Task, ServiceRequest', async () => {
      for (const type of ['Encounter', 'Task', 'ServiceRequest']) expect((await outA().get(`/fhir/${type}/${fx[type]!['org-a']}`)).status).toBe(200);
    }],
    ['Observation read → 403', async () => expectForbidden(await outA().get(`/fhir/Observation/${fx.Observation!['org-a']}`))],
    ['Observation search → 403', async () => expectForbidden(await outA().get('/fhir/Observation'))],
    ['GET /fhir?_type=Observation → 403', async () => expectForbidden(await outA().get('/fhir?_type=Observation'))],
    ['Task?_include=Task:focus drops the Observation it points at', async () => {
      const res = await outA().get(`/fhir/Task?_id=${g.taskAtoObs}&_include=Task:focus`);
      expect(res.status).toBe(200);
      expect(ids(res, 'match')).toEqual([`Task/${g.taskAtoObs}`]);
      expect(ids(res).filter((r) => r.startsWith('Observation/'))).toEqual([]);
    }],
    ['Patient?_revinclude=Observation:subject has no Observation', async () => {
      const res = await outA().get(`/fhir/Patient?_id=${fx.Patient!['org-a']}&_revinclude=Observation:subject`);
      expect(res.status).toBe(200);
      expect(ids(res, 'match')).toEqual([`Patient/${fx.Patient!['org-a']}`]);
      expect(ids(res).filter((r) => r.startsWith('Observation/'))).toEqual([]);
    }],
    ['Patient?_has:Observation… never matches through clinical data', async () => {
      const res = await outA().get(`/fhir/Patient?_id=${fx.Patient!['org-a']}&_has:Observation:subject:status=final`);
      if (res.status !== 403) {
        expect(res.status).toBe(200);
        expect(ids(res, 'match')).toEqual([]);
      }
    }],
    ['Task?focus:Observation.status=final never matches through clinical data', async () => {
      const res = await outA().get(`/fhir/Task?_id=${g.taskAtoObs}&focus:Observation.status=final`);
      if (res.status !== 403) {
        expect(res.status).toBe(200);
        expect(ids(res, 'match')).toEqual([]);
      }
    }],
    ['system history shows no clinical data', async () => {
      const res = await outA().get('/fhir/_history?_count=1000');
      expect(res.status).toBe(200);
      expect(ids(res).filter((r) => r.startsWith('Observation/') || r.startsWith('AuditEvent/'))).toEqual([]);
      expect(foreign(entriesOf(res), 'org-a')).toEqual([]);
    }],
  ] as [string, () => Promise<void>][])('outreach@org-a %s', async (_name, run) => run());
});

describe('reporting', () => {
  const rep = () => t.as(['reporting'], 'org-a');
  test.each([
    ['Patient search', 403, '/fhir/Patient'],
    ['Patient read', 403, () => `/fhir/Patient/${fx.Patient!['org-a']}`],
    ['Observation search', 403, '/fhir/Observation'],
    ['Observation read', 403, () => `/fhir/Observation/${fx.Observation!['org-a']}`],
    ['Task search', 403, '/fhir/Task'],
    ['Task read', 403, () => `/fhir/Task/${fx.Task!['org-a']}`],
    ['Organization search', 200, '/fhir/Organization'],
    ['Questionnaire search', 200, '/fhir/Questionnaire'],
    ['MeasureReport search', 200, '/fhir/MeasureReport'],
  ] as [string, number, string | (() => string)][])('reporting@org-a %s → %d', async (_name, status, url) => {
    const res = await rep().get(typeof url === 'string' ? url : url());
    if (status === 403) expectForbidden(res);
    else {
      expect(res.status).toBe(200);
      expect(foreign(entriesOf(res), 'org-a')).toEqual([]);
    }
  });

  test('reporting@org-a MeasureReport search: own report, not org-b\'s', async () => {
    const res = await rep().get('/fhir/MeasureReport?_count=1000');
    expect(ids(res)).toContain(`MeasureReport/${fx.MeasureReport!['org-a']}`);
    expect(ids(res)).not.toContain(`MeasureReport/${fx.MeasureReport!['org-b']}`);
  });
});

describe('admin', () => {
  const adminA = () => t.as(['admin'], 'org-a');
  test.each([
    ['creates and updates an Organization', 'Organization'],
    ['creates and updates a Questionnaire', 'Questionnaire'],
  ])('admin@org-a %s', async (_name, type) => {
    const c = await post(adminA(), type, bodyFor(type, ''));
    expect(c.status).toBe(201);
    const u = await adminA().put(`/fhir/${type}/${c.body.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...c.body, language: 'en' }));
    expect(u.status).toBe(200);
    expect(u.body.meta.versionId).toBe('2');
  });
  test('admin@org-a creating an Observation → 403', async () => {
    expectForbidden(await post(adminA(), 'Observation', bodyFor('Observation', fx.Patient!['org-a']!)));
  });
  test('admin@org-a reads own Patient', async () => {
    const res = await adminA().get(`/fhir/Patient/${fx.Patient!['org-a']}`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(fx.Patient!['org-a']);
  });
});

describe('auditor', () => {
  test.each(['org-a', 'org-b'])('auditor@%s: AuditEvent search → only events of its own organisation', async (org) => {
    const res = await t.as(['auditor'], org).get('/fhir/AuditEvent?_count=200');
    expect(res.status).toBe(200);
    const events = entriesOf(res);
    expect(events.length).toBeGreaterThan(0);
    const bad = events.filter((e) => !(e.resource?.agent ?? []).some((a) => a.who?.reference === `Organization/${org}`));
    expect(bad.map(refOf)).toEqual([]);
    const other = org === 'org-a' ? 'org-b' : 'org-a';
    const mixed = events.filter((e) => (e.resource?.agent ?? []).some((a) => a.who?.reference === `Organization/${other}`));
    expect(mixed.map(refOf)).toEqual([]);
  });

  test('auditor@org-a: Patient search and read → 403', async () => {
    expectForbidden(await auditorA.get('/fhir/Patient'));
    expectForbidden(await auditorA.get(`/fhir/Patient/${fx.Patient!['org-a']}`));
  });

  test('AuditEvent create → 405 and nothing stored', async () => {
    const forged = { ...bodyFor('AuditEvent', ''), id: 'forged-event' };
    const res = await post(auditorA, 'AuditEvent', forged);
    expect(res.status).toBe(405);
    expect(res.headers.location).toBeUndefined();
    const put = await auditorA.put('/fhir/AuditEvent/forged-event').set('Content-Type', FHIR_JSON).send(JSON.stringify(forged));
    expect(put.status).toBe(405);
    expect((await auditorA.get('/fhir/AuditEvent/forged-event')).status).toBe(404);
  });

  test('AuditEvent update, patch, delete → 405 and the event unchanged', async () => {
    const id = fx.AuditEvent!['org-a']!;
    const before = await auditorA.get(`/fhir/AuditEvent/${id}`);
    expect(before.status).toBe(200);
    const put = await auditorA.put(`/fhir/AuditEvent/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...before.body, outcomeDesc: 'tampered' }));
    expect(put.status).toBe(405);
    const patch = await auditorA.patch(`/fhir/AuditEvent/${id}`).set('Content-Type', 'application/json-patch+json').send(JSON.stringify([{ op: 'add', path: '/outcomeDesc', value: 'tampered' }]));
    expect(patch.status).toBe(405);
    expect((await auditorA.delete(`/fhir/AuditEvent/${id}`)).status).toBe(405);
    const after = await auditorA.get(`/fhir/AuditEvent/${id}`);
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
  });
});

describe('transactions and batches', () => {
  const clinB = () => t.as(['clinician'], 'org-b');
  const marker = (code: string) => ({ coding: [{ system: TEST_SYSTEM, code }] });
  const countOf = async (agent: Agent, code: string) => (await agent.get(`/fhir/Observation?code=${TEST_SYSTEM}|${code}&_summary=count`)).body.total as number;

  test('org-b transaction reading an org-a Observation fails with 404 and stores nothing', async () => {
    const res = await postBundle(clinB(), {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { ...bodyFor('Observation', fx.Patient!['org-b']!), code: marker('tx-read-a') }, request: { method: 'POST', url: 'Observation' } },
        { request: { method: 'GET', url: `Observation/${fx.Observation!['org-a']}` } },
      ],
    });
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(await countOf(clinB(), 'tx-read-a')).toBe(0);
  });

  test('org-b transaction updating an org-a Observation fails with 404; the Observation is unchanged', async () => {
    const before = await ownerA.get(`/fhir/Observation/${fx.Observation!['org-a']}`);
    const res = await postBundle(clinB(), {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { ...bodyFor('Observation', fx.Patient!['org-b']!), code: marker('tx-put-a') }, request: { method: 'POST', url: 'Observation' } },
        { resource: { ...before.body, status: 'amended' }, request: { method: 'PUT', url: `Observation/${fx.Observation!['org-a']}` } },
      ],
    });
    expect(res.status).toBe(404);
    expect(await countOf(clinB(), 'tx-put-a')).toBe(0);
    expect((await ownerA.get(`/fhir/Observation/${fx.Observation!['org-a']}`)).body.meta.versionId).toBe(before.body.meta.versionId);
  });

  test('org-b batch: the entry reading org-a data is 404, the others succeed', async () => {
    const res = await postBundle(clinB(), {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: `Observation/${fx.Observation!['org-a']}` } },
        { request: { method: 'GET', url: `Observation/${fx.Observation!['org-b']}` } },
        { resource: { ...bodyFor('Observation', fx.Patient!['org-b']!), code: marker('batch-b') }, request: { method: 'POST', url: 'Observation' } },
        { request: { method: 'GET', url: `Patient?_id=${fx.Patient!['org-a']},${fx.Patient!['org-b']}` } },
        { resource: bodyFor('Observation', fx.Patient!['org-a']!), request: { method: 'POST', url: 'Observation' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    const statuses = (res.body.entry as Entry[]).map((e) => e.response?.status?.slice(0, 3));
    expect(statuses).toEqual(['404', '200', '201', '200', '422']);
    const searchSet = res.body.entry[3].resource;
    expect(searchSet.total).toBe(1);
    expect(searchSet.entry.map((e: Entry) => refOf(e))).toEqual([`Patient/${fx.Patient!['org-b']}`]);
    expect(JSON.stringify(res.body.entry[0])).not.toContain(fx.Patient!['org-a']);
    remember('Observation', res.body.entry[2].resource?.id ?? 'unknown', 'org-b');
  });

  test('outreach transaction creating an Observation → 403, nothing stored', async () => {
    const res = await postBundle(t.as(['outreach'], 'org-a'), {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: bodyFor('Encounter', fx.Patient!['org-a']!), request: { method: 'POST', url: 'Encounter' } },
        { resource: { ...bodyFor('Observation', fx.Patient!['org-a']!), code: marker('tx-outreach') }, request: { method: 'POST', url: 'Observation' } },
      ],
    });
    expectForbidden(res);
    expect(await countOf(ownerA, 'tx-outreach')).toBe(0);
  });
});

describe('SMART scopes narrow the role', () => {
  const scoped = (scope: string, role: Role = 'clinician') => t.as([role], 'org-a', { scope });
  const patientA = () => `/fhir/Patient/${fx.Patient!['org-a']}`;
  const obsA = () => `/fhir/Observation/${fx.Observation!['org-a']}`;

  test.each([
    ['user/Patient.rs', 'read Patient', 200, (a: Agent) => a.get(patientA())],
    ['user/Patient.rs', 'search Patient', 200, (a: Agent) => a.get('/fhir/Patient')],
    ['user/Patient.rs', 'create Patient', 403, (a: Agent) => post(a, 'Patient', bodyFor('Patient', ''))],
    ['user/Patient.rs', 'read Observation', 403, (a: Agent) => a.get(obsA())],
    ['user/Patient.rs', 'search Observation', 403, (a: Agent) => a.get('/fhir/Observation')],
    ['user/*.read', 'read Patient', 200, (a: Agent) => a.get(patientA())],
    ['user/*.read', 'read Observation', 200, (a: Agent) => a.get(obsA())],
    ['user/*.read', 'search Observation', 200, (a: Agent) => a.get('/fhir/Observation')],
    ['user/*.read', 'create Observation', 403, (a: Agent) => post(a, 'Observation', bodyFor('Observation', fx.Patient!['org-a']!))],
    ['user/*.read', 'create Patient', 403, (a: Agent) => post(a, 'Patient', bodyFor('Patient', ''))],
    ['user/*.read', 'delete Observation', 403, (a: Agent) => a.delete(obsA())],
    ['user/Observation.cruds', 'create Observation', 201, (a: Agent) => post(a, 'Observation', bodyFor('Observation', fx.Patient!['org-a']!))],
    ['user/Observation.cruds', 'read Observation', 200, (a: Agent) => a.get(obsA())],
    ['user/Observation.cruds', 'read Patient', 403, (a: Agent) => a.get(patientA())],
    ['user/Observation.cruds', 'search Patient', 403, (a: Agent) => a.get('/fhir/Patient')],
    ['user/Observation.cruds', 'create Patient', 403, (a: Agent) => post(a, 'Patient', bodyFor('Patient', ''))],
    ['user/Observation.cruds', '_revinclude of Observation from Patient search is refused', 403, (a: Agent) => a.get('/fhir/Patient?_revinclude=Observation:subject')],
  ] as [string, string, number, (a: Agent) => Promise<Response>][])('clinician with scope %s: %s → %d', async (scope, _name, status, run) => {
    const res = await run(scoped(scope));
    if (status === 403) expectForbidden(res);
    else expect(res.status).toBe(status);
  });

  test('a scope never widens a role: outreach with user/*.cruds still gets 403 on Observation', async () => {
    expectForbidden(await scoped('user/*.cruds', 'outreach').get(obsA()));
    expectForbidden(await post(scoped('user/*.cruds', 'outreach'), 'Observation', bodyFor('Observation', fx.Patient!['org-a']!)));
  });
});

describe('custody when clients may choose ids (update-as-create allowed)', () => {
  // Known trade-off (docs/security.md): when a deployment lets clients choose ids of held types, an
  // id taken by another organisation cannot be given out again, and the answer (409) differs from a
  // free id (201). The default configuration allows client ids only for shared directory types.
  test('org-b PUT to an id org-a holds → 409 without revealing or changing the resource', async () => {
    const local = startTestApp({ CLIENT_ID_TYPES: 'Observation' });
    try {
      const a = local.as(['clinician', 'admin'], 'org-a');
      const b = local.as(['clinician', 'admin'], 'org-b');
      const pa = await post(a, 'Patient', bodyFor('Patient', ''));
      const pb = await post(b, 'Patient', bodyFor('Patient', ''));
      const mine = await a.put('/fhir/Observation/chosen-id').set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...bodyFor('Observation', pa.body.id), id: 'chosen-id' }));
      expect(mine.status).toBe(201);
      const res = await b.put('/fhir/Observation/chosen-id').set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...bodyFor('Observation', pb.body.id), id: 'chosen-id', status: 'amended' }));
      expect(res.status).toBe(409);
      expect(JSON.stringify(res.body)).not.toContain('final');
      const after = await a.get('/fhir/Observation/chosen-id');
      expect(after.body.meta.versionId).toBe('1');
      expect(after.body.status).toBe('final');
    } finally {
      await local.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The matrix, one named case per cell
// ---------------------------------------------------------------------------------------------

/** The target of read-only cells: org-a's fixture; its twin: org-b's (for searches). */
const target = (type: string) => fx[type]!['org-a']!;
const twin = (type: string) => fx[type]!['org-b'];

async function runCell(c: Cell): Promise<void> {
  const org = ORG[c.side];
  const actor = t.as([c.role], org);
  const shared = SHARED.has(c.kind);

  switch (c.interaction) {
    case 'create': {
      // own: about org-a's client, as org-a; other: about org-a's client, as org-b.
      const res = await post(actor, c.type, bodyFor(c.type, fx.Patient!['org-a']!));
      if (checkRefusal(res, c.expect)) {
        expect(res.headers.location).toBeUndefined();
        return;
      }
      if (c.expect === 'unknown-client') {
        expect(res.status).toBe(422);
        expect(JSON.stringify(res.body)).toContain('not known to your organisation');
        return;
      }
      expect(res.status).toBe(201);
      expect(res.body.resourceType).toBe(c.type);
      remember(c.type, res.body.id, org);
      return;
    }

    case 'read':
    case 'vread':
    case 'history-instance': {
      const id = target(c.type);
      const suffix = c.interaction === 'read' ? '' : c.interaction === 'vread' ? '/_history/1' : '/_history';
      const res = await actor.get(`/fhir/${c.type}/${id}${suffix}`);
      if (checkRefusal(res, c.expect)) return;
      if (c.expect === 'hidden') {
        expect(res.status).toBe(404);
        expect(JSON.stringify(res.body)).not.toContain('"resourceType":"' + c.type + '"');
        return;
      }
      expect(res.status).toBe(200);
      if (c.interaction === 'history-instance') {
        expect(res.body.type).toBe('history');
        expect(ids(res).length).toBeGreaterThan(0);
        expect(new Set(ids(res))).toEqual(new Set([`${c.type}/${id}`]));
      } else {
        expect(res.body.id).toBe(id);
      }
      return;
    }

    case 'search': {
      const a = target(c.type);
      const b = twin(c.type);
      const query = `/fhir/${c.type}?_id=${b ? `${a},${b}` : a}`;
      const res = await actor.get(query);
      if (checkRefusal(res, c.expect)) return;
      expect(res.status).toBe(200);
      const visible = shared || c.side === 'own' ? [`${c.type}/${a}`] : [`${c.type}/${b}`];
      expect({ total: res.body.total, ids: ids(res, 'match') }).toEqual({ total: 1, ids: visible });
      const count = await actor.get(`${query}&_summary=count`);
      expect(count.body.total).toBe(1);
      if (c.expect === 'hidden') {
        const only = await actor.get(`/fhir/${c.type}?_id=${a}&_summary=count`);
        expect(only.body.total).toBe(0);
      }
      return;
    }

    case 'history-type': {
      const res = await actor.get(`/fhir/${c.type}/_history?_count=1000`);
      if (checkRefusal(res, c.expect)) return;
      expect(res.status).toBe(200);
      expect(res.body.type).toBe('history');
      expect(foreign(entriesOf(res), org)).toEqual([]);
      if (c.expect === 'hidden') expect(ids(res)).not.toContain(`${c.type}/${target(c.type)}`);
      else if (c.type !== 'AuditEvent') expect(ids(res)).toContain(`${c.type}/${target(c.type)}`);
      return;
    }

    case 'update':
    case 'patch':
    case 'delete': {
      const id = await freshTarget(c.type);
      const before = await readAsOwner(c.type, id);
      expect(before.status).toBe(200);
      let res: Response;
      if (c.interaction === 'update') {
        const changed = c.type === 'AuditEvent' ? { ...before.body, outcomeDesc: 'tampered' } : { ...before.body, language: 'fr' };
        res = await actor.put(`/fhir/${c.type}/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(changed));
      } else if (c.interaction === 'patch') {
        res = await actor.patch(`/fhir/${c.type}/${id}`).set('Content-Type', 'application/json-patch+json').send(JSON.stringify([{ op: 'add', path: '/language', value: 'fr' }]));
      } else {
        res = await actor.delete(`/fhir/${c.type}/${id}`);
      }
      const after = await readAsOwner(c.type, id);

      if (c.expect === 'ok') {
        expect(res.status).toBe(200);
        if (c.interaction === 'delete') expect(after.status).toBe(410);
        else {
          expect(after.status).toBe(200);
          expect(after.body.language).toBe('fr');
        }
        return;
      }
      if (c.expect === 'hidden') {
        if (c.interaction === 'delete') {
          expect(res.status).toBe(200);
          expect(JSON.stringify(res.body)).toContain('did not exist');
        } else {
          expect(res.status).toBe(404);
        }
      } else {
        checkRefusal(res, c.expect);
      }
      // Refused or invisible: the owner still sees it, unchanged.
      expect(after.status).toBe(200);
      expect(after.body).toEqual(before.body);
      return;
    }
  }
}

describe('the access matrix (docs/security.md), one case per cell', () => {
  test.each(CELLS)('$name', async (cell) => runCell(cell));
});
