/**
 * Security review (issues #4, #6): versions. A consent is decided on a resource's labels, and
 * labels can change between versions. Organisation B, permitted "everything but HIV", must not
 * reach an earlier version of A's resource that was HIV information — not by vread, not through
 * instance, type or system history.
 */
import type { BundleEntry, Consent } from '@medplum/fhirtypes';
import { FHIR_JSON } from '../helpers/app';
import { twoClinics } from '../helpers/clinics';
import { allButHivConsent, createdBy } from '../helpers/consent';

const A = 'hist-clinic-a';
const B = 'hist-clinic-b';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
/** Stands for the HIV disclosure of version 1: it must never reach B. */
const MARK = 'disclosure-5f1c9e';

const { clinA, clinB } = twoClinics(A, B);

const post = createdBy;

function allButHiv(patient: string): Consent {
  return allButHivConsent(patient, B);
}

interface Fixture {
  patient: string;
  note: string;
}

/**
 * A clinical note of A's client: version 1 records an HIV disclosure and is labelled HIV; version 2
 * moves the disclosure out (and drops the label), so only version 2 is B's to see.
 */
async function relabelledNote(): Promise<Fixture> {
  const p = await post(clinA(), { resourceType: 'Patient', gender: 'female' });
  await post(clinA(), allButHiv(p.id));
  const v1 = await post(clinA(), {
    resourceType: 'Observation', status: 'final', code: { text: 'clinical note' }, valueString: `client disclosed HIV-positive status (${MARK})`,
    subject: { reference: `Patient/${p.id}` }, meta: { security: [{ system: ACT_CODE, code: 'HIV' }] },
  });
  const v2 = { resourceType: 'Observation', id: v1.id, status: 'final', code: { text: 'clinical note' }, valueString: 'follow-up in two weeks', subject: { reference: `Patient/${p.id}` } };
  const res = await clinA().put(`/fhir/Observation/${v1.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(v2));
  expect(res.status).toBe(200);
  return { patient: p.id, note: v1.id };
}

const versions = (entries: BundleEntry[] | undefined, id: string): string[] =>
  (entries ?? []).filter((e) => e.resource?.id === id).map((e) => e.resource!.meta!.versionId!).sort();

const leaked = (entries: BundleEntry[] | undefined): boolean => JSON.stringify(entries ?? []).includes(MARK);

test('control: B reads the current, unlabelled version through the consent', async () => {
  const f = await relabelledNote();
  const res = await clinB().get(`/fhir/Observation/${f.note}`);
  expect(res.status).toBe(200);
  expect(res.body.meta.versionId).toBe('2');
});

test('vread of the earlier HIV-labelled version answers 404 to B (A still reads it)', async () => {
  const f = await relabelledNote();
  expect((await clinB().get(`/fhir/Observation/${f.note}/_history/1`)).status).toBe(404);
  expect((await clinB().get(`/fhir/Observation/${f.note}/_history/2`)).status).toBe(200);
  expect((await clinA().get(`/fhir/Observation/${f.note}/_history/1`)).status).toBe(200);
});

test('instance history shows B only the versions it may see', async () => {
  const f = await relabelledNote();
  const res = await clinB().get(`/fhir/Observation/${f.note}/_history`);
  expect(res.status).toBe(200);
  expect(versions(res.body.entry, f.note)).toEqual(['2']);
  expect(leaked(res.body.entry)).toBe(false);
  // The total must not count what was left out either.
  expect(res.body.total === undefined || res.body.total === 1).toBe(true);
  expect(versions((await clinA().get(`/fhir/Observation/${f.note}/_history`)).body.entry, f.note)).toEqual(['1', '2']);
});

test('type and system history do not carry the earlier version to B', async () => {
  const f = await relabelledNote();
  const type = await clinB().get('/fhir/Observation/_history?_count=1000');
  expect(versions(type.body.entry, f.note)).toEqual(['2']);
  expect(leaked(type.body.entry)).toBe(false);
  const system = await clinB().get('/fhir/_history?_count=1000');
  expect(versions(system.body.entry, f.note)).toEqual(['2']);
  expect(leaked(system.body.entry)).toBe(false);
});

test('history _at a time when the note was HIV-labelled gives B nothing of it', async () => {
  const f = await relabelledNote();
  const v1 = (await clinA().get(`/fhir/Observation/${f.note}/_history/1`)).body.meta.lastUpdated as string;
  const res = await clinB().get(`/fhir/Observation/${f.note}/_history?_at=${encodeURIComponent(v1)}`);
  expect(res.status).toBe(200);
  expect(leaked(res.body.entry)).toBe(false);
});

test('history of a resource B cannot see at all is 404, as a read (pinned)', async () => {
  const p = await post(clinA(), { resourceType: 'Patient', gender: 'male' });
  const obs = await post(clinA(), { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${p.id}` } });
  expect((await clinB().get(`/fhir/Observation/${obs.id}/_history`)).status).toBe(404);
  expect((await clinB().get(`/fhir/Observation/${obs.id}/_history/1`)).status).toBe(404);
  expect((await clinB().get(`/fhir/Observation/${obs.id}/_history/99`)).status).toBe(404);
  expect((await clinB().get(`/fhir/Patient/${p.id}/_history`)).status).toBe(404);
});

test('revoking the consent hides every version on the next request (pinned)', async () => {
  const f = await relabelledNote();
  const consents = await clinA().get(`/fhir/Consent?patient=Patient/${f.patient}`);
  const consent = consents.body.entry[0].resource as Consent;
  expect((await clinA().put(`/fhir/Consent/${consent.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...consent, status: 'inactive' }))).status).toBe(200);
  expect((await clinB().get(`/fhir/Observation/${f.note}/_history/2`)).status).toBe(404);
  expect((await clinB().get(`/fhir/Observation/${f.note}/_history`)).status).toBe(404);
  expect(versions((await clinB().get('/fhir/Observation/_history?_count=1000')).body.entry, f.note)).toEqual([]);
});
