/** The project's own SearchParameters work like the official ones (src/search/project-params.ts). */
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

let t: TestApp;
beforeAll(() => {
  t = startTestApp();
});
afterAll(() => t.close());

const post = async (body: object) => {
  const res = await t.http.post(`/fhir/${(body as { resourceType: string }).resourceType}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
  if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string };
};

test('EpisodeOfCare?days-to-art compares the linkage extension as a number', async () => {
  const p = await post({ resourceType: 'Patient', gender: 'female' });
  const episode = (days: number) => post({
    resourceType: 'EpisodeOfCare', status: 'active', patient: { reference: `Patient/${p.id}` },
    extension: [{ url: 'https://linkcare.example.org/fhir/StructureDefinition/days-to-art', valueInteger: days }],
  });
  const quick = await episode(3);
  const slow = await episode(21);
  const ids = async (q: string) => ((await t.http.get(`/fhir/EpisodeOfCare?${q}`)).body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id);
  expect(await ids('days-to-art=gt7')).toEqual([slow.id]);
  expect(await ids('days-to-art=le7')).toEqual([quick.id]);
  expect((await t.http.get('/fhir/SearchParameter/EpisodeOfCare-days-to-art')).status).toBe(200);
});

test('Consent?recipient finds organisations named in nested provisions', async () => {
  const p = await post({ resourceType: 'Patient', gender: 'male' });
  const ircp = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] };
  const c = await post({
    resourceType: 'Consent', status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${p.id}` },
    provision: { type: 'deny', provision: [{ type: 'permit', actor: [{ role: ircp, reference: { reference: 'Organization/nested-org' } }] }] },
  });
  const found = await t.http.get('/fhir/Consent?recipient=Organization/nested-org');
  expect(found.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([c.id]);
  expect((await t.http.get('/fhir/Consent?actor=Organization/nested-org')).body.entry ?? []).toEqual([]);
});

test('supply-end is the day a dispensed or prescribed supply runs out, for defaulter tracing', async () => {
  const p = await post({ resourceType: 'Patient', gender: 'female' });
  const tld = { coding: [{ system: 'http://snomed.info/sct', code: '1156220005' }], text: 'TLD' };
  const days = (value: number, code: string) => ({ value, unit: code, system: 'http://unitsofmeasure.org', code });
  const dispense = (whenHandedOver: string, daysSupply?: object) => post({
    resourceType: 'MedicationDispense', status: 'completed', medicationCodeableConcept: tld,
    subject: { reference: `Patient/${p.id}` }, whenHandedOver, ...(daysSupply ? { daysSupply } : {}),
  });
  const quarterly = await dispense('2026-01-10T09:30:00+03:00', days(90, 'd'));
  const unknown = await dispense('2026-02-01');
  const prescribed = await post({
    resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: tld,
    subject: { reference: `Patient/${p.id}` }, authoredOn: '2026-01-31', dispenseRequest: { expectedSupplyDuration: days(1, 'mo') },
  });
  const ids = async (q: string) => ((await t.http.get(`/fhir/${q}&subject=Patient/${p.id}`)).body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id);
  expect(await ids('MedicationDispense?supply-end=2026-04-10')).toEqual([quarterly.id]);
  expect(await ids('MedicationDispense?supply-end=lt2026-04-10')).toEqual([]);
  expect(await ids('MedicationDispense?supply-end:missing=true')).toEqual([unknown.id]);
  // A calendar month from 31 January ends on the last day of February.
  expect(await ids('MedicationRequest?supply-end=2026-02-28')).toEqual([prescribed.id]);
  expect((await t.http.get('/fhir/SearchParameter/medication-supply-end')).body.type).toBe('date');
});
