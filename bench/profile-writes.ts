/**
 * In-process profile of the write path: transaction Bundles of 50 Observations through the full
 * app (auth, rules, validation, indexing, audit). Run with
 * `node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-writes.ts` and open the
 * profile, or read the summary this prints.
 */
import request from 'supertest';
import { startTestApp, FHIR_JSON } from '../tests/helpers/app';

async function main(): Promise<void> {
  const t = startTestApp();
  const p = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType":"Patient","gender":"female"}');
  const obs = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '1234-5' }] }, subject: { reference: `Patient/${p.body.id}` } };
  const bundle = JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: Array.from({ length: 50 }, () => ({ resource: obs, request: { method: 'POST', url: 'Observation' } })) });
  const rounds = Number(process.env.ROUNDS ?? 40);
  for (let i = 0; i < 5; i++) await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send(bundle);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send(bundle);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(`${rounds * 50} resources via ${rounds} transactions: ${ms.toFixed(0)} ms = ${((rounds * 50) / ms * 1000).toFixed(0)} resources/s\n`);
  void request;
  await t.close();
}

void main();
