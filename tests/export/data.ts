/** Test data written through the API: organisations, clients and their records. */
import type request from 'supertest';
import { CLIENT_CODE_SYSTEM } from '../../src/privacy/client-code';

type Agent = ReturnType<typeof request.agent>;

export interface Client {
  id: string;
  code: string;
}

/** PUTs an Organization with a chosen id (directory ids are agreed between systems). */
export async function organization(admin: Agent, id: string): Promise<void> {
  const res = await admin.put(`/fhir/Organization/${id}`).send({ resourceType: 'Organization', id, name: `Clinic ${id}`, telecom: [{ system: 'phone', value: '+1000' }] });
  if (res.status >= 300) throw new Error(`organization: ${res.status} ${res.text}`);
}

/** Registers a client at the agent's organisation. */
export async function client(agent: Agent, extra: object = {}): Promise<Client> {
  const res = await agent.post('/fhir/Patient').send({ resourceType: 'Patient', gender: 'female', birthDate: '1994', ...extra });
  if (res.status !== 201) throw new Error(`client: ${res.status} ${res.text}`);
  const code = (res.body.identifier as { system: string; value: string }[]).find((i) => i.system === CLIENT_CODE_SYSTEM)!.value;
  return { id: res.body.id as string, code };
}

/** Records a viral-load Observation with narrative, a note and a performer site. */
export async function observation(agent: Agent, patientId: string, when: string, performerOrg?: string): Promise<string> {
  const res = await agent.post('/fhir/Observation').send({
    resourceType: 'Observation',
    status: 'final',
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Seen at the drop-in centre</div>' },
    code: { coding: [{ system: 'http://loinc.org', code: '23876-6' }], text: 'HIV viral load, free text' },
    subject: { reference: `Patient/${patientId}`, display: 'the client' },
    effectiveDateTime: when,
    valueQuantity: { value: 200, unit: 'copies/mL', system: 'http://unitsofmeasure.org', code: '{copies}/mL' },
    note: [{ text: 'Client mentioned her workplace' }],
    ...(performerOrg ? { performer: [{ reference: `Organization/${performerOrg}` }] } : {}),
  });
  if (res.status !== 201) throw new Error(`observation: ${res.status} ${res.text}`);
  return res.body.id as string;
}
