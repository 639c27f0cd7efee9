/**
 * A write about a client keeps the client's code in the unit of work's memo (for the audit trail
 * of the same unit), and forgets it when a Patient is written in that unit.
 */
import type { Patient } from '@medplum/fhirtypes';
import { createIn, updateIn } from '../../src/fhir/interactions/write';
import { CLIENT_CODE_SYSTEM, clientCodeMemoKey } from '../../src/privacy/client-code';
import { FHIR_JSON, TEST_ORG, startTestApp, type TestApp } from '../helpers/app';

let t: TestApp;
beforeAll(async () => {
  t = startTestApp();
  await t.linkcare.ready;
});
afterAll(() => t.close());

const principal = { sub: 'memo-test', org: TEST_ORG, roles: ['clinician' as const] };
const observation = (patientId: string) => ({
  resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '23876-6' }] },
  subject: { reference: `Patient/${patientId}` },
});

it('remembers the code of the client an Observation is about, and forgets it on a Patient write', async () => {
  const created = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', gender: 'female' });
  expect(created.status).toBe(201);
  const patient = created.body as Patient & { id: string };
  const code = patient.identifier?.find((i) => i.system === CLIENT_CODE_SYSTEM)?.value;
  expect(code).toBeTruthy();
  const ctx = t.linkcare.ctx;
  await ctx.store.unitOfWork(async (tx) => {
    await createIn(ctx, tx, 'Observation', observation(patient.id), { principal });
    expect(tx.memo.get(clientCodeMemoKey(patient.id))).toBe(code);
    await updateIn(ctx, tx, 'Patient', patient.id, { ...patient, gender: 'other' }, { principal });
    expect(tx.memo.has(clientCodeMemoKey(patient.id))).toBe(false);
  });
});

it('remembers nothing when the client is not known to the writer', async () => {
  const ctx = t.linkcare.ctx;
  await expect(
    ctx.store.unitOfWork(async (tx) => {
      try {
        await createIn(ctx, tx, 'Observation', observation('no-such-client'), { principal });
      } finally {
        expect(tx.memo.has(clientCodeMemoKey('no-such-client'))).toBe(false);
      }
    }),
  ).rejects.toMatchObject({ status: 422 });
});
