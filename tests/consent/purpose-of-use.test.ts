/**
 * Emergency purposes of use (v3-ActReason ETREAT, BTG) open what a consent keeps for emergencies,
 * so only clinicians may declare them (src/fhir/context.ts purposeOf); each use is audited with it.
 */
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { createdBy, privacyConsent, recipient } from '../helpers/consent';

const HOLDER = 'purpose-holder-clinic';
const OTHER = 'purpose-other-clinic';
const ETREAT = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'ETREAT' };

let t: TestApp;
let observation: string;
beforeAll(async () => {
  t = startTestApp();
  const register = (org: string) => t.as(['outreach'], org).post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify({
    resourceType: 'Parameters',
    parameter: [{ name: 'uic', valueString: 'PURPOSE CLIENT 02021992' }, { name: 'birthYear', valueInteger: 1992 }, { name: 'gender', valueCode: 'female' }],
  }));
  const patient = (await register(HOLDER)).body.id as string;
  await register(OTHER);
  const holder = t.as(['clinician'], HOLDER);
  observation = (await createdBy(holder, { resourceType: 'Observation', status: 'final', code: { text: 'blood pressure' }, subject: { reference: `Patient/${patient}` } })).id;
  // The client shares with the other clinic for emergency treatment only.
  await createdBy(holder, privacyConsent(patient, { type: 'permit', actor: [recipient(OTHER)], purpose: [ETREAT] }));
});
afterAll(() => t.close());

test('a clinician declaring emergency treatment reads what the consent keeps for emergencies, and the audit says so', async () => {
  const read = (purpose?: string) => {
    const r = t.as(['clinician'], OTHER).get(`/fhir/Observation/${observation}`);
    return purpose ? r.set('X-Purpose-Of-Use', purpose) : r;
  };
  expect((await read()).status).toBe(404);
  expect((await read('ETREAT')).status).toBe(200);
  const events = await t.as(['auditor'], OTHER).get(`/fhir/AuditEvent?entity=Observation/${observation}&outcome=0`);
  const purposes = (events.body.entry ?? []).map((e: { resource: { purposeOfEvent?: { coding: { code: string }[] }[] } }) => e.resource.purposeOfEvent?.[0]?.coding[0]?.code);
  expect(purposes).toContain('ETREAT');
});

test.each([
  ['outreach', 'Patient'] as const,
  ['admin', 'Organization'] as const,
])('%s may not declare an emergency purpose, even in a search of %s their role allows (403)', async (role, type) => {
  expect((await t.as([role], OTHER).get(`/fhir/${type}?_count=1`)).status).toBe(200);
  for (const purpose of ['ETREAT', 'BTG']) {
    const res = await t.as([role], OTHER).get(`/fhir/${type}?_count=1`).set('X-Purpose-Of-Use', purpose);
    expect([purpose, res.status]).toEqual([purpose, 403]);
    expect(res.body.issue[0].diagnostics).toMatch(/Only clinicians/);
  }
});

test('the emergency purposes are refused to other roles on writes and operations too, and the refusal is audited', async () => {
  const patient = (await t.as(['outreach'], OTHER).get('/fhir/Patient?_count=1')).body.entry[0].resource.id as string;
  const write = await t.as(['outreach'], OTHER).post('/fhir/Encounter').set('Content-Type', FHIR_JSON).set('X-Purpose-Of-Use', 'BTG').send(JSON.stringify({
    resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'FLD' }, subject: { reference: `Patient/${patient}` },
  }));
  expect(write.status).toBe(403);
  expect(write.body.issue[0].diagnostics).toMatch(/Only clinicians/);
  expect((await t.as(['outreach'], OTHER).get('/fhir/Encounter?_summary=count')).body.total).toBe(0);
  const refusals = await t.as(['auditor'], OTHER).get('/fhir/AuditEvent?outcome=4&_count=100');
  const purposes = (refusals.body.entry ?? []).map((e: { resource: { purposeOfEvent?: { coding: { code: string }[] }[] } }) => e.resource.purposeOfEvent?.[0]?.coding[0]?.code);
  expect(purposes).toContain('BTG');
});
