/**
 * The knowledge files themselves: valid R4, ValueSets only name codes their CodeSystems define,
 * and the expansion rules (include, value set intersection, exclude, refusals) on small inputs.
 */
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { createResourceValidator } from '../../src/fhir/validation/validator';
import { conceptIndex, loadCatalog } from '../../src/terminology/catalog';
import { expandCompose, mapResolver } from '../../src/terminology/expand';
import { OperationOutcomeError } from '../../src/fhir/outcome';

const catalog = loadCatalog();
const validator = createResourceValidator();

test.each(catalog.resources.map((r) => [`${r.resourceType}/${r.id}`, r] as const))('%s is valid R4', (_name, r) => {
  expect(validator.validate(r)).toEqual([]);
});

test('every enumerated ValueSet concept exists in its CodeSystem when the catalog has it', () => {
  const missing: string[] = [];
  for (const vs of catalog.valueSets.values()) {
    for (const inc of vs.compose?.include ?? []) {
      const cs = catalog.codeSystems.get(inc.system ?? '');
      if (!cs) continue;
      const codes = conceptIndex(cs);
      for (const c of inc.concept ?? []) if (!codes.has(c.code)) missing.push(`${vs.id}: ${inc.system}|${c.code}`);
    }
  }
  expect(missing).toEqual([]);
});

test('every Questionnaire answer option is a code of mh-answer with a score', () => {
  const answers = conceptIndex(catalog.codeSystems.get('https://linkcare.example.org/fhir/CodeSystem/mh-answer')!);
  for (const q of catalog.questionnaires.values()) {
    for (const item of q.item ?? []) {
      for (const o of item.answerOption ?? []) expect(answers.get(o.valueCoding!.code!)?.property?.[0]?.valueInteger).toEqual(expect.any(Number));
    }
  }
});

describe('expandCompose', () => {
  const cs: CodeSystem = { resourceType: 'CodeSystem', url: 'urn:cs', status: 'active', content: 'complete', concept: [{ code: 'a', display: 'A', concept: [{ code: 'a1', display: 'A1' }] }, { code: 'b', display: 'B' }] };
  const all: ValueSet = { resourceType: 'ValueSet', url: 'urn:all', status: 'active', compose: { include: [{ system: 'urn:cs' }] } };
  const resolver = mapResolver(new Map([['urn:cs', cs]]), new Map([['urn:all', all]]));
  const codes = async (compose: ValueSet['compose']) => (await expandCompose({ resourceType: 'ValueSet', status: 'active', url: 'urn:t', compose }, resolver)).map((c) => c.code);

  test('a whole system includes nested concepts', async () => {
    expect(await codes(all.compose)).toEqual(['a', 'a1', 'b']);
  });

  test('listed concepts take displays from the CodeSystem; exclusions remove', async () => {
    const out = await expandCompose({ resourceType: 'ValueSet', status: 'active', compose: { include: [{ system: 'urn:cs', concept: [{ code: 'b' }, { code: 'a' }] }], exclude: [{ system: 'urn:cs', concept: [{ code: 'a' }] }] } }, resolver);
    expect(out).toEqual([{ system: 'urn:cs', code: 'b', display: 'B', version: undefined }]);
  });

  test('a system and a value set in one include intersect', async () => {
    expect(await codes({ include: [{ system: 'urn:cs', concept: [{ code: 'b' }, { code: 'zz' }], valueSet: ['urn:all'] }] })).toEqual(['b']);
  });

  test('filters, unknown systems and unknown value sets are refused (422 not-supported)', async () => {
    for (const compose of [
      { include: [{ system: 'urn:cs', filter: [{ property: 'concept', op: 'is-a' as const, value: 'a' }] }] },
      { include: [{ system: 'urn:other' }] },
      { include: [{ valueSet: ['urn:none'] }] },
    ]) {
      const err = await codes(compose).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperationOutcomeError);
      expect((err as OperationOutcomeError).status).toBe(422);
    }
  });
});
