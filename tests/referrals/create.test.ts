/**
 * Sending a referral over HTTP: the client's consent for the receiving organisation (422 without,
 * also inside a transaction Bundle, where it may be created alongside), what the Task must point
 * at, and deadlines of urgent and post-exposure referrals.
 */
import type { Bundle, OperationOutcome, Task } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { EXPOSURE_EXTENSION, REFERRAL_SERVICE_SYSTEM } from '../../src/referrals/task';
import { CLINIC, COMMUNITY, OTHER, consentFor, create, created, diagnostics, put, referralTask, serviceRequest } from './helpers';

let t: TestApp;
const outreach = () => t.as(['outreach'], COMMUNITY);
let patient: string;
let sr: string;

beforeAll(async () => {
  t = startTestApp();
  patient = (await created<{ id: string }>(outreach(), { resourceType: 'Patient', gender: 'female' })).id;
  sr = (await created<{ id: string }>(outreach(), serviceRequest(patient, 'art-initiation'))).id;
});
afterAll(() => t.close());

describe('consent', () => {
  test('a referral to an organisation the client has not consented to is refused with 422 naming the missing consent', async () => {
    const res = await create(outreach(), referralTask(patient, sr, CLINIC));
    expect(res.status).toBe(422);
    const oo = res.body as OperationOutcome;
    expect(oo.issue[0]!.code).toBe('business-rule');
    expect(oo.issue[0]!.expression).toEqual(['Task.owner']);
    expect(diagnostics(oo)).toContain(`No active Consent of Patient/${patient} permits Organization/${CLINIC}`);
    expect((await outreach().get(`/fhir/Task?focus=ServiceRequest/${sr}`)).body.total).toBe(0);
  });

  test('a consent for another organisation, or an inactive one, does not count', async () => {
    const p = (await created<{ id: string }>(outreach(), { resourceType: 'Patient', gender: 'male' })).id;
    const s = (await created<{ id: string }>(outreach(), serviceRequest(p, 'prep'))).id;
    await created(outreach(), consentFor(p, OTHER));
    await created(outreach(), consentFor(p, CLINIC, 'inactive'));
    expect((await create(outreach(), referralTask(p, s, CLINIC))).status).toBe(422);
    expect((await create(outreach(), referralTask(p, s, OTHER))).status).toBe(201);
  });

  test('a draft needs no consent yet; sending it does', async () => {
    const p = (await created<{ id: string }>(outreach(), { resourceType: 'Patient', gender: 'female' })).id;
    const s = (await created<{ id: string }>(outreach(), serviceRequest(p, 'mental-health'))).id;
    const draft = await created<Task>(outreach(), referralTask(p, s, CLINIC, { status: 'draft' }));
    const refused = await put(outreach(), { ...draft, status: 'requested' });
    expect(refused.status).toBe(422);
    expect((refused.body as OperationOutcome).issue[0]!.expression).toEqual(['Task.owner']);
    await created(outreach(), consentFor(p, CLINIC));
    expect((await put(outreach(), { ...draft, status: 'requested' })).status).toBe(200);
  });

  test('a referral inside the organisation needs no consent', async () => {
    expect((await create(outreach(), referralTask(patient, sr, COMMUNITY))).status).toBe(201);
  });

  test('the consent may come in the same transaction Bundle; without it the whole Bundle is refused', async () => {
    const p = (await created<{ id: string }>(outreach(), { resourceType: 'Patient', gender: 'female' })).id;
    const entries = (withConsent: boolean): Bundle['entry'] => [
      ...(withConsent ? [{ fullUrl: 'urn:uuid:6a1f0c3e-0000-4000-8000-000000000001', resource: consentFor(p, CLINIC), request: { method: 'POST' as const, url: 'Consent' } }] : []),
      { fullUrl: 'urn:uuid:6a1f0c3e-0000-4000-8000-000000000002', resource: serviceRequest(p, 'hiv-testing'), request: { method: 'POST', url: 'ServiceRequest' } },
      { fullUrl: 'urn:uuid:6a1f0c3e-0000-4000-8000-000000000003', resource: referralTask(p, 'x', CLINIC, { focus: { reference: 'urn:uuid:6a1f0c3e-0000-4000-8000-000000000002' } }), request: { method: 'POST', url: 'Task' } },
    ];
    const send = (withConsent: boolean) => outreach().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries(withConsent) }));
    const refused = await send(false);
    expect(refused.status).toBe(422);
    expect((await outreach().get(`/fhir/ServiceRequest?subject=Patient/${p}`)).body.total).toBe(0);
    const ok = await send(true);
    expect(ok.status).toBe(200);
    expect((ok.body as Bundle).entry!.map((e) => e.response!.status)).toEqual(['201 Created', '201 Created', '201 Created']);
  });
});

describe('what a referral points at', () => {
  test('Task.for, Task.owner and Task.focus are required, each refused at its path', async () => {
    const full = referralTask(patient, sr, COMMUNITY);
    for (const [field, path] of [['for', 'Task.for'], ['owner', 'Task.owner'], ['focus', 'Task.focus']] as const) {
      const res = await create(outreach(), { ...full, [field]: undefined });
      expect([field, res.status]).toEqual([field, 422]);
      expect((res.body as OperationOutcome).issue[0]!.expression).toEqual([path]);
    }
  });

  test('the focus must be a ServiceRequest of the same client, coded from the referral-service list', async () => {
    const p2 = (await created<{ id: string }>(outreach(), { resourceType: 'Patient', gender: 'female' })).id;
    const otherClientsSr = (await created<{ id: string }>(outreach(), serviceRequest(p2, 'prep'))).id;
    expect((await create(outreach(), referralTask(patient, otherClientsSr, COMMUNITY))).status).toBe(422);
    // Codes outside the list are refused when the ServiceRequest is written (terminology); one
    // without any referral-service code gets as far as the Task, which needs to know the service.
    const uncoded = (await created<{ id: string }>(outreach(), { ...serviceRequest(patient, 'x'), code: { text: 'something' } })).id;
    const res = await create(outreach(), referralTask(patient, uncoded, COMMUNITY));
    expect(res.status).toBe(422);
    expect(diagnostics(res.body)).toContain(REFERRAL_SERVICE_SYSTEM);
  });

  test("another organisation's ServiceRequest looks absent", async () => {
    const elsewhere = t.as(['clinician'], OTHER);
    const p = (await created<{ id: string }>(elsewhere, { resourceType: 'Patient', gender: 'female' })).id;
    const theirs = (await created<{ id: string }>(elsewhere, serviceRequest(p, 'prep'))).id;
    const res = await create(outreach(), referralTask(patient, theirs, COMMUNITY));
    expect(res.status).toBe(422);
    expect(diagnostics(res.body)).toContain('not found');
  });

  test('requester: defaults to the caller organisation, may be a practitioner, never another organisation', async () => {
    expect((await created<Task>(outreach(), referralTask(patient, sr, COMMUNITY))).requester).toEqual({ reference: `Organization/${COMMUNITY}` });
    expect((await create(outreach(), referralTask(patient, sr, COMMUNITY, { requester: { reference: 'PractitionerRole/peer-1' } }))).status).toBe(201);
    const res = await create(outreach(), referralTask(patient, sr, COMMUNITY, { requester: { reference: `Organization/${OTHER}` } }));
    expect(res.status).toBe(422);
    expect((res.body as OperationOutcome).issue[0]!.expression).toEqual(['Task.requester']);
  });
});

describe('urgent referrals and deadlines', () => {
  test('priority stat without a deadline is 422; with one it is kept', async () => {
    const res = await create(outreach(), referralTask(patient, sr, COMMUNITY, { priority: 'stat' }));
    expect(res.status).toBe(422);
    expect((res.body as OperationOutcome).issue[0]!.expression).toEqual(['Task.restriction.period.end']);
    const ok = await created<Task>(outreach(), referralTask(patient, sr, COMMUNITY, { priority: 'asap', restriction: { period: { end: '2030-01-01T12:00:00Z' } } }));
    expect(ok.restriction?.period?.end).toBe('2030-01-01T12:00:00Z');
  });

  test('post-rape care: the deadline is the end of the 72-hour PEP window from the assault time', async () => {
    const pep = (await created<{ id: string }>(outreach(), serviceRequest(patient, 'pep'))).id;
    const task = await created<Task>(outreach(), referralTask(patient, pep, COMMUNITY, {
      extension: [{ url: EXPOSURE_EXTENSION, valueDateTime: '2030-05-01T23:30:00+02:00' }],
    }));
    expect(task.priority).toBe('stat');
    expect(task.restriction?.period?.end).toBe('2030-05-04T21:30:00Z');
    // The deadline is searchable for worklists.
    const found = await outreach().get('/fhir/Task?deadline=2030-05-04');
    expect(found.body.entry.map((e: { resource: Task }) => e.resource.id)).toContain(task.id);
  });
});
