/**
 * The referral loop over HTTP between a community organisation (outreach) and a clinic
 * (clinician): the full lifecycle, then every transition of the state machine made by the right
 * party (allowed) and by the wrong one (409 listing what is allowed), what each status needs,
 * fields each side may not touch, closed referrals, and concurrent transitions.
 */
import type { OperationOutcome, Task } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { type Party, type TaskStatus, allTransitions } from '../../src/referrals/state-machine';
import { type Agent, CLINIC, COMMUNITY, OTHER, consentingClient, create, created, diagnostics, put, referralTask, serviceRequest } from './helpers';

let t: TestApp;
const outreach = () => t.as(['outreach'], COMMUNITY);
const clinic = () => t.as(['clinician'], CLINIC);
const other = () => t.as(['clinician'], OTHER);
const agentOf = (p: Party) => (p === 'requester' ? outreach() : clinic());
const otherParty = (p: Party): Party => (p === 'requester' ? 'owner' : 'requester');

let patient: string;
let sr: string;

beforeAll(async () => {
  t = startTestApp();
  patient = await consentingClient(outreach(), [CLINIC]);
  sr = (await created<{ id: string }>(outreach(), serviceRequest(patient, 'sti-treatment'))).id;
});
afterAll(() => t.close());

/** What a status needs to be entered: a reason, or a coded outcome. */
function needs(status: TaskStatus): Partial<Task> {
  if (status === 'rejected' || status === 'on-hold' || status === 'failed') return { statusReason: { text: `reason for ${status}` } };
  if (status === 'completed') return { output: [{ type: { text: 'outcome' }, valueCodeableConcept: { text: 'treated' } }] };
  return {};
}

/** Reads the Task as `agent` and PUTs it back with `status` (and what the status needs). */
async function move(agent: Agent, id: string, status: TaskStatus, extra: Partial<Task> = needs(status)) {
  const current = await agent.get(`/fhir/Task/${id}`);
  expect(current.status).toBe(200);
  return put(agent, { ...(current.body as Task), status, ...extra });
}

/** Paths of allowed transitions that bring a new referral to each status. */
const PATH: Partial<Record<TaskStatus, [Party, TaskStatus][]>> = {
  draft: [],
  requested: [],
  received: [['owner', 'received']],
  accepted: [['owner', 'accepted']],
  'in-progress': [['owner', 'accepted'], ['owner', 'in-progress']],
  'on-hold': [['owner', 'accepted'], ['owner', 'on-hold']],
};

async function referralAt(status: TaskStatus): Promise<string> {
  const task = await created<Task>(outreach(), referralTask(patient, sr, CLINIC, { status: status === 'draft' ? 'draft' : 'requested' }));
  for (const [party, to] of PATH[status]!) expect((await move(agentOf(party), task.id!, to)).status).toBe(200);
  return task.id!;
}

describe('full lifecycle', () => {
  test('community refers, clinic receives, accepts, works, holds, resumes and completes with the Encounter', async () => {
    const sent = await create(outreach(), referralTask(patient, sr, CLINIC));
    expect(sent.status).toBe(201);
    const task = sent.body as Task;
    // The server completes the requester and the authoring time.
    expect(task.requester).toEqual({ reference: `Organization/${COMMUNITY}` });
    expect(task.authoredOn).toBeDefined();

    // The clinic sees the referral, what it asks for and the client; another clinic sees none of it.
    expect((await clinic().get(`/fhir/Task/${task.id}`)).status).toBe(200);
    expect((await clinic().get(`/fhir/ServiceRequest/${sr}`)).status).toBe(200);
    expect((await clinic().get(`/fhir/Patient/${patient}`)).status).toBe(200);
    for (const path of [`Task/${task.id}`, `ServiceRequest/${sr}`, `Patient/${patient}`]) expect((await other().get(`/fhir/${path}`)).status).toBe(404);

    for (const step of ['received', 'accepted', 'in-progress', 'on-hold', 'in-progress'] as TaskStatus[]) {
      const res = await move(clinic(), task.id!, step);
      expect([step, res.status]).toEqual([step, 200]);
    }
    const encounter = await created<{ id: string }>(clinic(), { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${patient}` } } as never);
    const done = await move(clinic(), task.id!, 'completed', { output: [{ type: { text: 'visit' }, valueReference: { reference: `Encounter/${encounter.id}` } }] });
    expect(done.status).toBe(200);
    expect((done.body as Task).status).toBe('completed');

    // The community organisation follows the loop: it reads the completed Task.
    const seen = await outreach().get(`/fhir/Task/${task.id}`);
    expect((seen.body as Task).status).toBe('completed');
    expect((seen.body as Task).output?.[0]?.valueReference?.reference).toBe(`Encounter/${encounter.id}`);
  });
});

describe('the client withdraws consent after the referral was sent', () => {
  test('the owner no longer sees the client and cannot accept (so never enrols them); the Task stays visible to be closed', async () => {
    const client = await consentingClient(outreach(), [CLINIC]);
    const request = (await created<{ id: string }>(outreach(), serviceRequest(client, 'prep'))).id;
    const task = await created<Task>(outreach(), referralTask(client, request, CLINIC));
    expect((await clinic().get(`/fhir/Patient/${client}`)).status).toBe(200);

    const consents = await outreach().get(`/fhir/Consent?patient=Patient/${client}`);
    const consent = consents.body.entry[0].resource;
    expect((await put(outreach(), { ...consent, status: 'inactive' })).status).toBe(200);

    expect((await clinic().get(`/fhir/Patient/${client}`)).status).toBe(404);
    expect((await clinic().get(`/fhir/Patient?_id=${client}`)).body.total).toBe(0);
    expect((await clinic().get(`/fhir/Task?_id=${task.id}&_include=Task:patient`)).body.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType)).toEqual(['Task']);
    const accept = await move(clinic(), task.id!, 'accepted');
    expect(accept.status).toBe(422);
    expect(diagnostics(accept.body as OperationOutcome)).toMatch(/No active Consent/);
    expect((await clinic().get(`/fhir/Patient/${client}`)).status).toBe(404);
    // The requester closes the loop on its side.
    expect((await move(outreach(), task.id!, 'cancelled', { statusReason: { text: 'consent withdrawn' } })).status).toBe(200);
    expect((await clinic().get(`/fhir/Patient/${client}`)).status).toBe(404);
  });
});

describe('every transition, by the right and the wrong party', () => {
  for (const { party, from, to } of allTransitions()) {
    // A draft is not yet the owner's: the owner may at most read it through the client's consent,
    // never change it (403); once sent, a wrong move is a state-machine refusal (409).
    const refusal = from === 'draft' ? 403 : 409;
    test(`${from} → ${to}: the ${otherParty(party)} gets ${refusal}, the ${party} succeeds`, async () => {
      const id = await referralAt(from);
      const wrong = await move(agentOf(otherParty(party)), id, to);
      expect(wrong.status).toBe(refusal);
      const oo = wrong.body as OperationOutcome;
      if (refusal === 409) {
        expect(oo.issue[0]!.expression).toEqual(['Task.status']);
        expect(diagnostics(oo)).toContain(`from ${from} to ${to}`);
      }
      const right = await move(agentOf(party), id, to);
      expect(right.status).toBe(200);
      expect((right.body as Task).status).toBe(to);
    });
  }
});

describe('refusals', () => {
  test('the 409 lists the transitions the caller may make', async () => {
    const id = await referralAt('requested');
    const res = await move(outreach(), id, 'accepted');
    expect(res.status).toBe(409);
    const info = (res.body as OperationOutcome).issue.filter((i) => i.severity === 'information').map((i) => i.diagnostics);
    expect(info).toEqual(['Allowed transition: requested → cancelled']);
  });

  test('a transition no party may make (requested → completed) is 409', async () => {
    const id = await referralAt('requested');
    expect((await move(clinic(), id, 'completed')).status).toBe(409);
  });

  test.each(['rejected', 'on-hold', 'failed'] as TaskStatus[])('%s without statusReason is 422 at Task.statusReason', async (to) => {
    const id = await referralAt(to === 'rejected' ? 'requested' : 'accepted');
    const res = await move(clinic(), id, to, {});
    expect(res.status).toBe(422);
    expect((res.body as OperationOutcome).issue[0]!.expression).toEqual(['Task.statusReason']);
  });

  test('completed without output, or with output pointing at nothing done, is 422 at Task.output', async () => {
    const id = await referralAt('accepted');
    expect((await move(clinic(), id, 'completed', {})).status).toBe(422);
    const wrongType = await move(clinic(), id, 'completed', { output: [{ type: { text: 'x' }, valueReference: { reference: `Patient/${patient}` } }] });
    expect(wrongType.status).toBe(422);
    const missing = await move(clinic(), id, 'completed', { output: [{ type: { text: 'x' }, valueReference: { reference: 'Encounter/does-not-exist' } }] });
    expect(missing.status).toBe(422);
    expect((missing.body as OperationOutcome).issue[0]!.expression).toEqual(['Task.output[0].valueReference']);
  });

  test('a closed referral cannot change, by either party; an identical re-send is harmless', async () => {
    const id = await referralAt('accepted');
    expect((await move(clinic(), id, 'completed')).status).toBe(200);
    expect((await move(outreach(), id, 'cancelled')).status).toBe(409);
    expect((await move(clinic(), id, 'in-progress')).status).toBe(409);
    const same = await clinic().get(`/fhir/Task/${id}`);
    expect((await put(clinic(), same.body)).status).toBe(200);
  });

  test('a referral is created as draft or requested only', async () => {
    const res = await create(outreach(), referralTask(patient, sr, CLINIC, { status: 'accepted' }));
    expect(res.status).toBe(409);
    expect(diagnostics(res.body)).toContain('draft or requested');
  });

  test('the owner may not change the deadline, priority or requester; nobody changes the client or the request', async () => {
    const id = await referralAt('requested');
    const task = (await clinic().get(`/fhir/Task/${id}`)).body as Task;
    const later = await put(clinic(), { ...task, restriction: { period: { end: '2099-01-01T00:00:00Z' } } });
    expect(later.status).toBe(422);
    expect((later.body as OperationOutcome).issue[0]!.expression).toEqual(['Task.restriction']);
    const otherClient = await put(outreach(), { ...task, for: { reference: 'Patient/someone-else' } });
    expect(otherClient.status).toBe(422);
    const reassigned = await put(outreach(), { ...task, owner: { reference: `Organization/${OTHER}` } });
    expect(reassigned.status).toBe(422);
  });

  test('the requester may not record an output; a draft may change owner and be deleted, a sent referral may not be deleted', async () => {
    const draft = await referralAt('draft');
    const d = (await outreach().get(`/fhir/Task/${draft}`)).body as Task;
    expect((await put(outreach(), { ...d, output: [{ type: { text: 'x' }, valueCodeableConcept: { text: 'done' } }] })).status).toBe(422);
    expect((await put(outreach(), { ...d, owner: { reference: `Organization/${OTHER}` } })).status).toBe(200);
    expect((await outreach().delete(`/fhir/Task/${draft}`)).status).toBe(200);
    const sent = await referralAt('requested');
    expect((await outreach().delete(`/fhir/Task/${sent}`)).status).toBe(409);
  });

  test('a caller of a third organisation cannot touch the referral', async () => {
    const id = await referralAt('requested');
    const task = (await clinic().get(`/fhir/Task/${id}`)).body as Task;
    const res = await put(other(), { ...task, status: 'accepted' });
    expect([403, 404]).toContain(res.status);
    expect(((await outreach().get(`/fhir/Task/${id}`)).body as Task).status).toBe('requested');
  });

  test('a Task that is not a referral is left to the ordinary rules', async () => {
    const res = await create(outreach(), { resourceType: 'Task', status: 'completed', intent: 'plan', code: { text: 'call back' }, for: { reference: `Patient/${patient}` } } as Task);
    expect(res.status).toBe(201);
  });
});

describe('concurrency', () => {
  test('two conflicting transitions at once: exactly one wins, the other gets 409', async () => {
    const id = await referralAt('requested');
    const task = (await clinic().get(`/fhir/Task/${id}`)).body as Task;
    const [a, b] = await Promise.all([
      put(clinic(), { ...task, status: 'accepted' }),
      put(clinic(), { ...task, status: 'rejected', statusReason: { text: 'no capacity' } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const final = ((await clinic().get(`/fhir/Task/${id}`)).body as Task).status;
    expect(final).toBe(a.status === 200 ? 'accepted' : 'rejected');
  });

  test('If-Match on the version read guards a stale transition (412)', async () => {
    const id = await referralAt('requested');
    const stale = (await clinic().get(`/fhir/Task/${id}`)).body as Task;
    expect((await move(clinic(), id, 'received')).status).toBe(200);
    const res = await put(clinic(), { ...stale, status: 'accepted' }, stale.meta!.versionId);
    expect(res.status).toBe(412);
  });
});

test('FHIR JSON content type is used throughout', () => expect(FHIR_JSON).toBe('application/fhir+json'));
