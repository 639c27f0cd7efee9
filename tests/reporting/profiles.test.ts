/**
 * The project's own example records (fixtures/examples, one per profile) count in the indicators
 * they feed, and records that must not count do not: a declined HIV test, a PEP regimen that is
 * also an ART regimen, a treatment start coded LOINC 63936-9 alone, a PEP course not completed, and
 * PEP courses due after the period end (DAK PRV.6). Each example is given to its own synthetic client.
 */
import type { Resource } from '@medplum/fhirtypes';
import { type TestApp, startTestApp } from '../helpers/app';
import { INDICATORS } from '../../src/reporting/indicators';
import { BUPRENORPHINE, METHADONE } from '../../src/reporting/codes';
import { type Figure, evaluateIndicator } from '../../src/reporting/evaluate';
import { projectCodes, valueSetCodes } from '../../src/reporting/profile-codes';
import type { ReportScope } from '../../src/reporting/query';
import { type FixtureRecord, loadRecords } from './load';
import { example as profileExample } from '../profiles/helpers';

const ORG = 'org-ex';
const DAK = 'http://smart.who.int/hiv/CodeSystem/HIVConcepts';
const SCT = 'http://snomed.info/sct';
const PROJECT = 'https://linkcare.example.org/fhir/CodeSystem';
const YEAR: ReportScope = { periodStart: '2025-01-01', periodEnd: '2025-12-31' };

type Json = Record<string, unknown>;
const rec = (resource: Json): FixtureRecord => ({ custodian: ORG, resource: resource as unknown as Resource & { id: string } });

/** The example `name` as client `pid`'s record `id`, with `change` applied to a copy. */
function example(name: string, id: string, pid: string, change: Json = {}): FixtureRecord {
  return rec({ ...profileExample<Json>(name, pid), id, ...change });
}

const client = (id: string): FixtureRecord => rec({ resourceType: 'Patient', id, gender: 'female', birthDate: '1995-05-05' });

let t: TestApp;

beforeAll(async () => {
  t = startTestApp();
  await t.linkcare.ready;
  await loadRecords(t.store, [
    { custodian: null, resource: { resourceType: 'Organization', id: ORG, name: 'Example drop-in centre' } },
    ...['p-test', 'p-declined', 'p-art', 'p-art-stmt', 'p-pep', 'p-pep-not', 'p-prep', 'p-ost'].map(client),
    example('hiv-test-conclusion', 'ex-test', 'p-test'),
    example('hiv-test-declined', 'ex-declined', 'p-declined'),
    // HIV.D.DE109 (TLD): ART here, PEP in the PEP prescription below.
    example('art-prescription', 'ex-art', 'p-art'),
    example('art-statement', 'ex-art-stmt', 'p-art-stmt'),
    example('viral-load', 'ex-vl', 'p-art-stmt'),
    example('pep-prescription', 'ex-pep', 'p-pep'),
    example('pep-completion', 'ex-pep-done', 'p-pep'),
    example('pep-prescription', 'ex-pep-2', 'p-pep-not'),
    example('pep-completion', 'ex-pep-not-done', 'p-pep-not', { valueBoolean: false }),
    example('prep-prescription', 'ex-prep', 'p-prep'),
    // A treatment start coded only "Start date of treatment or therapy": not evidence of ART.
    rec({ resourceType: 'Observation', id: 'ex-tx-start', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '63936-9' }] }, subject: { reference: 'Patient/p-prep' }, effectiveDateTime: '2025-04-01' }),
    // A person who injects drugs in contact, with the harm reduction and STI/hepatitis examples.
    rec({ resourceType: 'Encounter', id: 'ex-contact', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'FLD' }, subject: { reference: 'Patient/p-ost' }, period: { start: '2025-03-04' } }),
    rec({ resourceType: 'Observation', id: 'ex-kp', status: 'final', code: { coding: [{ system: DAK, code: 'HIV.B.DE50' }] }, valueCodeableConcept: { coding: [{ system: SCT, code: '226034001' }] }, subject: { reference: 'Patient/p-ost' }, effectiveDateTime: '2025-03-04' }),
    example('ost-dispense', 'ex-ost', 'p-ost'),
    example('harm-reduction-supply', 'ex-nsp', 'p-ost'),
    example('hepatitis-test', 'ex-hbsag', 'p-ost'),
    // The sti-test and sti-treatment examples are gonorrhoea; their syphilis variants use the same profiles' codes.
    example('sti-test', 'ex-syph', 'p-ost', { code: { coding: [{ system: DAK, code: 'HIV.D.DE402' }] }, valueCodeableConcept: { coding: [{ system: `${PROJECT}/test-result`, code: 'reactive' }] } }),
    example('sti-treatment', 'ex-bpg', 'p-ost', { medicationCodeableConcept: { coding: [{ system: `${PROJECT}/sti-medication`, code: 'benzathine-penicillin' }] } }),
  ]);
});
afterAll(() => t.close());

const n = (f: Figure): number => ('count' in f ? f.count : NaN);
async function total(id: string, scope: ReportScope = YEAR): Promise<[number, number]> {
  const r = await evaluateIndicator(t.store.reports!(), INDICATORS.find((i) => i.id === id)!, scope, { suppress: false, threshold: 0 });
  return [n(r.total.population), n(r.total.numerator)];
}

test('HIV.IND.19/20 count only tests with a result returned, not a declined test', async () => {
  expect(await total('HIV.IND.19')).toEqual([1, 0]);
  expect(await total('HIV.IND.20')).toEqual([1, 0]);
});

test('ART prescriptions and statements of the profiles are ART; TLD as PEP and LOINC 63936-9 alone are not', async () => {
  // On ART at the end: the prescription (2025) and the statement (since 2024-11-20).
  expect(await total('HIV.IND.27')).toEqual([2, 2]);
  // New in 2025: the prescription only.
  expect(await total('HIV.IND.30')).toEqual([1, 1]);
  // The statement's client: on ART since 2024-11-20 (over 6 months by the end), viral load 850.
  expect(await total('HIV.IND.29')).toEqual([1, 1]);
});

test('the PrEP and PEP profiles count as PrEP and PEP; a PEP completion valued false does not complete', async () => {
  expect(await total('HIV.IND.2')).toEqual([1, 1]);
  expect(await total('HIV.IND.5')).toEqual([2, 2]);
  expect(await total('HIV.IND.6')).toEqual([2, 1]);
});

test('HIV.IND.6 leaves out courses due after the period end (28 days, the prescription day the first)', async () => {
  // Prescribed 2025-03-04: the 28th day is 2025-03-31.
  expect(await total('HIV.IND.6', { periodStart: '2025-03-01', periodEnd: '2025-03-31' })).toEqual([2, 1]);
  expect(await total('HIV.IND.6', { periodStart: '2025-03-01', periodEnd: '2025-03-30' })).toEqual([0, 0]);
  // Recipients are counted whenever their course ends (HIV.IND.5).
  expect(await total('HIV.IND.5', { periodStart: '2025-03-01', periodEnd: '2025-03-30' })).toEqual([2, 2]);
});

test('OST dispenses (ost-dispense profile) count in HIV.IND.11 and, with their dose, in HIV.IND.14', async () => {
  expect(await total('HIV.IND.11')).toEqual([1, 1]);
  // Methadone 80 mg ≥ 60 mg.
  expect(await total('HIV.IND.14')).toEqual([1, 1]);
});

test('needle-syringe supplies, hepatitis and syphilis records of the profiles count', async () => {
  expect(await total('HIV.IND.8')).toEqual([1, 1]);
  expect(await total('HIV.IND.80')).toEqual([1, 1]);
  expect(await total('HIV.IND.85')).toEqual([1, 0]);
  expect(await total('HIV.IND.58')).toEqual([1, 1]);
  expect(await total('HIV.IND.62')).toEqual([1, 1]);
  expect(await total('HIV.IND.66')).toEqual([1, 1]);
});

test('every OST medicine of the profile is classed as methadone or buprenorphine (HIV.IND.14 doses)', () => {
  const key = (c: { system?: string; code: string }) => `${c.system}|${c.code}`;
  const classed = new Set([...METHADONE, ...BUPRENORPHINE].map(key));
  expect(valueSetCodes('ost-medication').filter((c) => !classed.has(key(c)))).toEqual([]);
});

test('profile codes are read from the terminology files, and a code they lack stops the load', () => {
  expect(valueSetCodes('arv-regimen')).toContainEqual({ system: DAK, code: 'HIV.D.DE109' });
  expect(() => projectCodes('commodity', 'nsp-kit')).toThrow(/no code nsp-kit/);
  expect(() => valueSetCodes('no-such-set')).toThrow(/missing/);
});
