/** Thousands of consenting clients: searches still answer (no oversized SQL), and fast enough to repeat. */
import type { Resource } from '@medplum/fhirtypes';
import { type TestApp, startTestApp } from '../helpers/app';

const IRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] };

let t: TestApp;
beforeAll(async () => {
  t = startTestApp();
  await t.store.unitOfWork(async (tx) => {
    for (let i = 0; i < 2500; i++) {
      const patient = `s${i}`;
      await tx.put({ resourceType: 'Patient', id: patient } as Resource & { id: string }, { custodian: 'org-a', patient });
      await tx.enrol(patient, 'org-a');
      await tx.put({
        resourceType: 'Consent', id: `sc${i}`, status: 'active',
        scope: { coding: [{ code: 'patient-privacy' }] }, category: [{ text: 'privacy' }],
        patient: { reference: `Patient/${patient}` },
        provision: { type: 'permit', actor: [{ role: IRCP, reference: { reference: 'Organization/org-b' } }] },
      } as Resource & { id: string }, { custodian: 'org-a', patient });
      await tx.put({ resourceType: 'Observation', id: `so${i}`, status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${patient}` } } as Resource & { id: string }, { custodian: 'org-a', patient });
    }
    await tx.touch('consent');
  });
}, 120_000);
afterAll(() => t.close());

test('2,500 clients consenting to one organisation: its searches answer, with exact totals on request', async () => {
  const b = t.as(['clinician'], 'org-b');
  const obs = await b.get('/fhir/Observation?_total=accurate&_count=5');
  expect(obs.status).toBe(200);
  expect(obs.body.total).toBe(2500);
  const patients = await b.get('/fhir/Patient?_summary=count');
  expect(patients.body.total).toBe(2500);
  expect((await b.get('/fhir/Observation/so1234')).status).toBe(200);
  // Another organisation sees none of it.
  expect((await t.as(['clinician'], 'org-c').get('/fhir/Observation?_summary=count')).body.total).toBe(0);
});
