/**
 * Security review (issues #4, #6): sensitivity labels. A consent that says "share everything but
 * my HIV data" is only as good as the HIV label on every HIV resource. These tests write the
 * project's own example resources (fixtures/examples, one per profile) as organisation A and check
 * that the label is there and that B, holding such a consent, cannot see them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleEntry, Consent, Observation, Resource } from '@medplum/fhirtypes';
import { FHIR_JSON } from '../helpers/app';
import { twoClinics } from '../helpers/clinics';
import { allButHivConsent, createdBy } from '../helpers/consent';

const A = 'label-clinic-a';
const B = 'label-clinic-b';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const ROOT = join(__dirname, '../..');
const EXAMPLES = join(ROOT, 'fixtures/examples');

/** Profiles whose resources are HIV information (docs/data-model.md "HIV testing", "Linkage and ART", PrEP/PEP). */
const HIV_PROFILES = ['hiv-test-assay', 'hiv-test-conclusion', 'hiv-test-declined', 'hiv-diagnosis', 'viral-load', 'art-prescription', 'art-statement', 'prep-prescription', 'pep-prescription', 'pep-completion'];

const { clinA, clinB } = twoClinics(A, B);

const post = createdBy;

function example(name: string, patient: string): Resource {
  const text = readFileSync(join(EXAMPLES, `${name}.json`), 'utf8');
  return JSON.parse(text.split('Patient/example-client').join(`Patient/${patient}`)) as Resource;
}

/** The example, with what it points at (the conclusion's assay) created first. */
async function writable(name: string, patient: string): Promise<Resource> {
  const r = example(name, patient) as Resource & { derivedFrom?: { reference: string }[] };
  if (r.derivedFrom) {
    const assay = await post(clinA(), example('hiv-test-assay', patient));
    r.derivedFrom = [{ reference: `Observation/${assay.id}` }];
  }
  return r;
}

const labels = (r: Resource): string[] => (r.meta?.security ?? []).filter((s) => s.system === ACT_CODE).map((s) => s.code!).sort();

/** A consent of the client: everything held by A for B, except HIV information. */
function allButHiv(patient: string): Consent {
  return allButHivConsent(patient, B);
}

async function clientWithConsent(): Promise<string> {
  const p = await post(clinA(), { resourceType: 'Patient', gender: 'female' });
  await post(clinA(), allButHiv(p.id));
  return p.id;
}

async function everythingSeenByB(patient: string): Promise<string[]> {
  const res = await clinB().get(`/fhir/Patient/${patient}/$everything?_count=1000`);
  expect(res.status).toBe(200);
  return ((res.body.entry ?? []) as BundleEntry[]).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);
}

test('every profile the label table names is a profile this server defines (a misspelt name labels nothing)', () => {
  const table = JSON.parse(readFileSync(join(ROOT, 'schemas/consent/sensitivity-labels.json'), 'utf8')) as { rules: { profiles?: string[] }[] };
  const defined = new Set(readdirSync(join(ROOT, 'schemas/profiles')).filter((f) => f.endsWith('.schema.json')).map((f) => f.slice(0, -'.schema.json'.length)));
  const named = table.rules.flatMap((r) => r.profiles ?? []);
  expect(named.filter((p) => !defined.has(p))).toEqual([]);
});

test.each(HIV_PROFILES)('%s: written by A it carries the HIV label, and an "all but HIV" consent keeps it from B', async (profile) => {
  const patient = await clientWithConsent();
  const created = await post(clinA(), await writable(profile, patient));
  expect(labels(created)).toContain('HIV');
  expect((await clinB().get(`/fhir/${created.resourceType}/${created.id}`)).status).toBe(404);
  expect(await everythingSeenByB(patient)).not.toContain(`${created.resourceType}/${created.id}`);
  // The consent does share the client's other data: the test would pass vacuously otherwise.
  const plain = await post(clinA(), { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${patient}` } } as Resource);
  expect((await clinB().get(`/fhir/Observation/${plain.id}`)).status).toBe(200);
});

test('an HIV test conclusion written without its profile is still HIV information (labelled by its code)', async () => {
  const patient = await clientWithConsent();
  const body = await writable('hiv-test-conclusion', patient);
  delete body.meta;
  const created = await post(clinA(), body);
  expect(labels(created)).toEqual(['HIV']);
  expect((await clinB().get(`/fhir/Observation/${created.id}`)).status).toBe(404);
});

/** A reactive assay of the strategy at `step` (HIV.B.DE90–92 = A1–A3). */
async function reactiveAssay(patient: string, step: string): Promise<string> {
  const assay = example('hiv-test-assay', patient) as Observation;
  assay.valueCodeableConcept = { coding: [{ system: 'https://linkcare.example.org/fhir/CodeSystem/test-result', code: 'reactive' }] };
  assay.component = [{ ...assay.component![0]!, valueCodeableConcept: { coding: [{ system: 'http://smart.who.int/hiv/CodeSystem/HIVConcepts', code: step }] } }];
  return (await post(clinA(), assay)).id!;
}

test('the HIV care episode the server derives from a positive conclusion is labelled HIV and hidden from B', async () => {
  const patient = await clientWithConsent();
  // A positive the strategy supports (HIV.B7.DT.08): A1+, A2+ and A3+.
  const assays = [];
  for (const step of ['HIV.B.DE90', 'HIV.B.DE91', 'HIV.B.DE92']) assays.push(await reactiveAssay(patient, step));
  const positive = example('hiv-test-conclusion', patient) as Observation;
  positive.derivedFrom = assays.map((id) => ({ reference: `Observation/${id}` }));
  positive.valueCodeableConcept = { coding: [{ system: 'http://smart.who.int/hiv/CodeSystem/HIVConcepts', code: 'HIV.B.DE112', display: 'HIV-positive' }] };
  await post(clinA(), positive);
  const own = await clinA().get(`/fhir/EpisodeOfCare?patient=Patient/${patient}`);
  expect(own.body.total).toBe(1);
  const episode = own.body.entry[0].resource as Resource;
  expect(labels(episode)).toContain('HIV');
  expect((await clinB().get(`/fhir/EpisodeOfCare/${episode.id}`)).status).toBe(404);
  expect((await clinB().get(`/fhir/EpisodeOfCare?patient=Patient/${patient}`)).body.total).toBe(0);
  expect(await everythingSeenByB(patient)).not.toContain(`EpisodeOfCare/${episode.id}`);
});

test('a writer cannot strip a derived label: an update without meta.security gets it back (pinned)', async () => {
  const patient = await clientWithConsent();
  const created = await post(clinA(), example('viral-load', patient));
  const { meta: _meta, ...rest } = created;
  const res = await clinA().put(`/fhir/Observation/${created.id}`).set('Content-Type', FHIR_JSON)
    .send(JSON.stringify({ ...rest, meta: { profile: created.meta!.profile } }));
  expect(res.status).toBe(200);
  expect(labels(res.body)).toContain('HIV');
  const patched = await clinA().patch(`/fhir/Observation/${created.id}`).set('Content-Type', 'application/json-patch+json')
    .send(JSON.stringify([{ op: 'remove', path: '/meta/security' }]));
  expect(patched.status).toBe(200);
  expect(labels(patched.body)).toContain('HIV');
  expect((await clinB().get(`/fhir/Observation/${created.id}`)).status).toBe(404);
});

test('labels that change after the consent count at once: data relabelled HIV disappears from B (pinned)', async () => {
  const patient = await clientWithConsent();
  const obs = await post(clinA(), { resourceType: 'Observation', status: 'final', code: { text: 'note' }, subject: { reference: `Patient/${patient}` } } as Resource);
  expect((await clinB().get(`/fhir/Observation/${obs.id}`)).status).toBe(200);
  const relabelled = { ...obs, meta: { security: [{ system: ACT_CODE, code: 'HIV' }] } };
  expect((await clinA().put(`/fhir/Observation/${obs.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(relabelled))).status).toBe(200);
  expect((await clinB().get(`/fhir/Observation/${obs.id}`)).status).toBe(404);
  expect((await clinB().get(`/fhir/Observation?subject=Patient/${patient}`)).body.total).toBe(0);
});
