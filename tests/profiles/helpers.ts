/** Shared helpers of the profile tests: the example fixtures and a client to attach them to. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp } from '../helpers/app';

export const EXAMPLES_DIR = join(__dirname, '../../fixtures/examples');
export const PLACEHOLDER = 'Patient/example-client';

/** Names of the example fixtures (one per profile). */
export function exampleNames(): string[] {
  return readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/** The example of a profile, with its placeholder client replaced by `patientId`. */
export function example<T = Resource>(name: string, patientId: string): T {
  const text = readFileSync(join(EXAMPLES_DIR, `${name}.json`), 'utf8');
  return JSON.parse(text.split(PLACEHOLDER).join(`Patient/${patientId}`)) as T;
}

/** Registers a client (a Patient with no identifying data) and returns its id. */
export async function createClient(t: TestApp, gender = 'female'): Promise<string> {
  const res = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', gender });
  if (res.status !== 201) throw new Error(`Patient create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** POSTs a resource to its type's endpoint as `agent`. */
export function postResource(agent: TestApp['http'], r: { resourceType?: unknown }) {
  return agent.post(`/fhir/${r.resourceType as string}`).set('Content-Type', FHIR_JSON).send(r);
}
