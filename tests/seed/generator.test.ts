/**
 * The synthetic programme generator: deterministic for a seed (same seed, same hash; another
 * seed, another hash), client k independent of the number of clients, resources the server's
 * validator and PII guard accept, assay sequences the WHO strategy produces, every Task state.
 */
import { createHash } from 'node:crypto';
import type { Observation, Resource, Task } from '@medplum/fhirtypes';
import { generateProgramme, type SeedOptions } from '../../src/seed/generate';
import type { SeedItem } from '../../src/seed/fhir';
import { createResourceValidator } from '../../src/fhir/validation/validator';
import { piiIssues } from '../../src/privacy/pii-guard';
import { isValidClientCode } from '../../src/privacy/client-code';
import { type Assay, type AssayStep, hivTestingStrategy } from '../../src/services/decisions/hiv-testing-strategy';
import * as C from '../../src/seed/codes';

function items(opts: SeedOptions): SeedItem[] {
  return [...generateProgramme(opts)].flatMap((b) => b.items);
}

function hash(opts: SeedOptions): string {
  const h = createHash('sha256');
  for (const i of items(opts)) h.update(JSON.stringify(i));
  return h.digest('hex');
}

const programme = items({ clients: 1500, seed: 11 });

test('same seed gives the same hash; another seed or reference date another', () => {
  const a = hash({ clients: 200, seed: 42 });
  expect(hash({ clients: 200, seed: 42 })).toBe(a);
  expect(hash({ clients: 200, seed: 43 })).not.toBe(a);
  expect(hash({ clients: 200, seed: 42, asOf: '2025-01-31' })).not.toBe(a);
});

test('client k is the same whatever the number of clients', () => {
  const small = items({ clients: 20, seed: 5 });
  const large = items({ clients: 40, seed: 5 });
  expect(JSON.stringify(large.slice(0, small.length))).toBe(JSON.stringify(small));
});

test('ids are unique and clients carry only a valid client code, gender and birth year', () => {
  const keys = programme.map((i) => `${i.resource.resourceType}/${i.resource.id}`);
  expect(new Set(keys).size).toBe(keys.length);
  const patients = programme.filter((i) => i.resource.resourceType === 'Patient');
  expect(patients).toHaveLength(1500);
  for (const p of patients) {
    expect(isValidClientCode(p.clientCode!)).toBe(true);
    expect(Object.keys(p.resource).sort()).toEqual(['active', 'birthDate', 'gender', 'id', 'identifier', 'managingOrganization', 'resourceType']);
    expect(piiIssues(p.resource as Resource, { allowBirthMonth: false })).toEqual([]);
  }
});

test('a sample of every type passes the server validator', () => {
  const validator = createResourceValidator();
  const seen = new Map<string, number>();
  for (const { resource } of programme) {
    const n = seen.get(resource.resourceType) ?? 0;
    if (n >= 30) continue;
    seen.set(resource.resourceType, n + 1);
    expect({ type: resource.resourceType, issues: validator.validate(resource) }).toEqual({ type: resource.resourceType, issues: [] });
  }
  expect([...seen.keys()].sort()).toEqual(['Condition', 'Consent', 'Encounter', 'EpisodeOfCare', 'Immunization', 'MedicationDispense', 'MedicationRequest', 'Observation', 'Organization', 'Patient', 'Procedure', 'ServiceRequest', 'SupplyDelivery', 'Task']);
});

test('every HIV conclusion follows from its assays by the WHO strategy (HIV.B7.DT)', () => {
  const obs = new Map(programme.filter((i) => i.resource.resourceType === 'Observation').map((i) => [i.resource.id, i.resource as Observation]));
  const conclusions = [...obs.values()].filter((o) => o.code.coding?.[0]?.code === C.HIV_CONCLUSION.code && o.valueCodeableConcept);
  expect(conclusions.length).toBeGreaterThan(1000);
  const seen = new Set<string>();
  for (const c of conclusions) {
    const assays: Assay[] = c.derivedFrom!.map((r) => {
      const a = obs.get(r.reference!.split('/')[1]!)!;
      const step = Object.entries(C.ASSAY_NUMBERS).find(([, n]) => n.code === a.component![0]!.valueCodeableConcept!.coding![0]!.code)![0] as AssayStep;
      return { step, result: a.valueCodeableConcept!.coding![0]!.code === 'reactive' ? 'reactive' : 'non-reactive' };
    });
    const d = hivTestingStrategy({ assays, visitDate: c.effectiveDateTime!.slice(0, 10) });
    expect(d.ok && 'conclusion' in d.value).toBe(true);
    if (d.ok && 'conclusion' in d.value) {
      expect(c.valueCodeableConcept!.text).toBe(d.value.conclusion);
      seen.add(d.value.rule);
    }
  }
  // The negative and positive paths both occur in a programme this size.
  expect([...seen]).toEqual(expect.arrayContaining(['HIV.B7.DT.01', 'HIV.B7.DT.08']));
});

test('referrals occur in every Task state, with a reason when rejected, failed or on hold', () => {
  const tasks = programme.filter((i) => i.resource.resourceType === 'Task').map((i) => i.resource as Task);
  const states = new Set(tasks.map((t) => t.status));
  expect([...states].sort()).toEqual(['accepted', 'cancelled', 'completed', 'draft', 'entered-in-error', 'failed', 'in-progress', 'on-hold', 'ready', 'received', 'rejected', 'requested']);
  for (const t of tasks) if (['rejected', 'failed', 'on-hold'].includes(t.status)) expect(t.statusReason?.text).toBeTruthy();
});
