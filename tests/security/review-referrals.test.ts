/**
 * Security review (issues #4, #6): the receiving end of a referral. Owning a referral Task opens
 * its ServiceRequest and its client to the owner organisation. These tests try to obtain that
 * opening without a real, sent referral: a Task that is not a referral, a Task turned into one
 * afterwards, and a draft the client never consented to send.
 */
import type { ServiceRequest, Task } from '@medplum/fhirtypes';
import { twoClinics } from '../helpers/clinics';
import { consentFor, create, created, put, referralTask, serviceRequest } from '../referrals/helpers';

const A = 'ref-requester-a';
const B = 'ref-attacker-b';

const { clinA, clinB } = twoClinics(A, B);

/** A client of A with a referral ServiceRequest held by A (and nothing shared with B). */
async function clientOfA(service = 'art-initiation'): Promise<{ patient: string; sr: string }> {
  const patient = (await created<{ id: string }>(clinA(), { resourceType: 'Patient', gender: 'female' })).id;
  const sr = (await created<ServiceRequest>(clinA(), serviceRequest(patient, service))).id;
  return { patient, sr };
}

/** A consent that admits B (so A may refer to it) but shares only referral Tasks, nothing of the record. */
function taskOnlyConsent(patient: string) {
  const base = consentFor(patient, B);
  return { ...base, provision: { ...base.provision!, class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] } };
}

async function bSees(path: string): Promise<number> {
  return (await clinB().get(`/fhir/${path}`)).status;
}

test('a Task that is not a referral, made by B and owned by B, does not open A\'s ServiceRequest', async () => {
  const { sr } = await clientOfA();
  const res = await create(clinB(), { resourceType: 'Task', status: 'requested', intent: 'order', owner: { reference: `Organization/${B}` }, focus: { reference: `ServiceRequest/${sr}` } } as Task);
  expect(res.status).toBe(201);
  expect(await bSees(`ServiceRequest/${sr}`)).toBe(404);
  expect((await clinB().get(`/fhir/ServiceRequest?_id=${sr}`)).body.total).toBe(0);
  expect((await clinB().get(`/fhir/Task?_id=${res.body.id}&_include=Task:focus`)).body.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType)).toEqual(['Task']);
});

test('a Task cannot become a referral by a later update (it would skip the checks of a new referral)', async () => {
  const { sr } = await clientOfA();
  const task = await created<Task>(clinB(), { resourceType: 'Task', status: 'requested', intent: 'order', owner: { reference: `Organization/${B}` }, focus: { reference: `ServiceRequest/${sr}` } } as Task);
  const res = await put(clinB(), { ...task, code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] } });
  expect(res.status).toBe(422);
  expect(await bSees(`ServiceRequest/${sr}`)).toBe(404);
});

test('a draft referral is not sent: its owner sees neither the Task, nor the ServiceRequest, nor the client until it is', async () => {
  const { patient, sr } = await clientOfA('mental-health');
  // No consent for B yet: A may prepare the draft, but B must learn nothing from it.
  const draft = await created<Task>(clinA(), referralTask(patient, sr, B, { status: 'draft' }));
  expect(await bSees(`Task/${draft.id}`)).toBe(404);
  expect(await bSees(`ServiceRequest/${sr}`)).toBe(404);
  expect(await bSees(`Patient/${patient}`)).toBe(404);
  expect((await clinB().get(`/fhir/Task?owner=Organization/${B}&_id=${draft.id}`)).body.total).toBe(0);
  expect((await clinB().get(`/fhir/Patient?_id=${patient}`)).body.total).toBe(0);
  // Sent with the client's consent, it is B's to see.
  await created(clinA(), taskOnlyConsent(patient));
  expect((await put(clinA(), { ...draft, status: 'requested' })).status).toBe(200);
  expect(await bSees(`Task/${draft.id}`)).toBe(200);
  expect(await bSees(`ServiceRequest/${sr}`)).toBe(200);
});

test('the owner of a sent referral sees the Task, its ServiceRequest and client, nothing else (pinned)', async () => {
  const { patient, sr } = await clientOfA();
  const other = (await created<ServiceRequest>(clinA(), serviceRequest(patient, 'prep'))).id;
  const obs = (await created<{ id: string }>(clinA(), { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${patient}` } } as never)).id;
  await created(clinA(), taskOnlyConsent(patient));
  const task = await created<Task>(clinA(), referralTask(patient, sr, B));
  expect(await bSees(`Task/${task.id}`)).toBe(200);
  expect(await bSees(`ServiceRequest/${sr}`)).toBe(200);
  expect(await bSees(`Patient/${patient}`)).toBe(200);
  expect(await bSees(`ServiceRequest/${other}`)).toBe(404);
  expect(await bSees(`Observation/${obs}`)).toBe(404);
  const everything = await clinB().get(`/fhir/Patient/${patient}/$everything`);
  const seen = (everything.body.entry ?? []).map((e: { resource: { resourceType: string; id: string } }) => `${e.resource.resourceType}/${e.resource.id}`).sort();
  expect(seen).toEqual([`Patient/${patient}`, `ServiceRequest/${sr}`, `Task/${task.id}`].sort());
});

test('the owner may not change the ServiceRequest, re-point the Task or hand it on (pinned)', async () => {
  const { patient, sr } = await clientOfA();
  const other = (await created<ServiceRequest>(clinA(), serviceRequest(patient, 'prep'))).id;
  await created(clinA(), taskOnlyConsent(patient));
  const task = await created<Task>(clinA(), referralTask(patient, sr, B));
  const srNow = (await clinB().get(`/fhir/ServiceRequest/${sr}`)).body as ServiceRequest;
  expect((await put(clinB(), { ...srNow, status: 'revoked' })).status).toBe(403);
  for (const change of [{ focus: { reference: `ServiceRequest/${other}` } }, { owner: { reference: 'Organization/third-org' } }, { requester: { reference: `Organization/${B}` } }, { priority: 'stat' as const }]) {
    expect((await put(clinB(), { ...task, ...change })).status).toBe(422);
  }
  expect(await bSees(`ServiceRequest/${other}`)).toBe(404);
});
