/**
 * HIV testing in the care gaps, from FHIR resources as stored (no server): a conclusion counts
 * for what its recorded assays make of it under the WHO strategy (DAK HIV.B7.DT), not for its
 * label, so a "positive" after a single reactive A1 asks for A2 and starts no ART gap; and the
 * HIV.S.4 row "Retesting prior to ART initiation", offered beside ART start, never before it.
 */
import type { Condition, MedicationRequest, Observation, Patient, Resource } from '@medplum/fhirtypes';
import * as C from '../../src/seed/codes';
import { clientRecord } from '../../src/services/care-gaps-record';
import { type Gap, careGaps } from '../../src/services/care-gaps-rules';

const patient: Patient = { resourceType: 'Patient', id: 'p1', gender: 'male', birthDate: '1990' };
const subject = { reference: 'Patient/p1' };
const DAY = '2025-03-01';
const at = (date: string) => `${date}T10:00:00Z`;

type Step = keyof typeof C.ASSAY_NUMBERS;
function assay(id: string, step: Step, result: 'reactive' | 'non-reactive' | 'invalid', date = DAY): Observation {
  const value = result === 'reactive' ? C.REACTIVE : result === 'non-reactive' ? C.NON_REACTIVE : { system: C.REACTIVE.system, code: 'invalid' };
  return {
    resourceType: 'Observation', id, status: 'final', subject, effectiveDateTime: at(date), code: { coding: [C.HIV_RDT] },
    valueCodeableConcept: { coding: [value] }, component: [{ code: { coding: [C.ASSAY_NUMBER] }, valueCodeableConcept: { coding: [C.ASSAY_NUMBERS[step]] } }],
  };
}
function conclusion(id: string, result: 'positive' | 'negative' | 'inconclusive', members: string[], date = DAY): Observation {
  return {
    resourceType: 'Observation', id, status: 'final', subject, effectiveDateTime: at(date), code: { coding: [C.HIV_CONCLUSION] },
    valueCodeableConcept: { coding: [...C.CONCLUSION_CODINGS[result]] }, derivedFrom: members.map((m) => ({ reference: `Observation/${m}` })),
  };
}
const declined = (id: string, date: string): Observation => ({
  resourceType: 'Observation', id, status: 'final', subject, effectiveDateTime: at(date), code: { coding: [C.HIV_CONCLUSION] },
  dataAbsentReason: { coding: [{ system: C.DATA_ABSENT, code: 'asked-declined' }] },
});
const condition = (date: string, evidence: string[] = []): Condition => ({
  resourceType: 'Condition', id: 'dx', subject, code: { coding: [C.HIV_INFECTION] }, onsetDateTime: date,
  ...(evidence.length ? { evidence: [{ detail: evidence.map((e) => ({ reference: `Observation/${e}` })) }] } : {}),
});
const art = (date: string): MedicationRequest => ({
  resourceType: 'MedicationRequest', id: 'art', status: 'active', intent: 'order', subject, authoredOn: at(date), medicationCodeableConcept: { coding: [...C.REGIMENS['art-tld']] },
});

const gapsOf = (resources: Resource[], asOf = '2025-03-02'): Gap[] => careGaps(clientRecord(patient, resources), asOf);
const codes = (gaps: Gap[]): string[] => gaps.map((g) => g.code);
const positiveAfterAll = [assay('a1', 'A1', 'reactive'), assay('a2', 'A2', 'reactive'), assay('a3', 'A3', 'reactive'), conclusion('c', 'positive', ['a1', 'a2', 'a3'])];

describe('a conclusion counts for what its assays say (HIV.B7.DT)', () => {
  test('HIV.B7.DT.08: positive after A1+, A2+, A3+ is a diagnosis: art-start', () => {
    expect(gapsOf(positiveAfterAll)).toContainEqual(expect.objectContaining({ code: 'art-start', dueDate: DAY }));
  });

  test('"positive" after a single reactive A1: no art-start; complete the strategy with A2 (HIV.B7.DT.02)', () => {
    const g = gapsOf([assay('a1', 'A1', 'reactive'), conclusion('c', 'positive', ['a1'])]);
    expect(codes(g)).not.toContain('art-start');
    expect(codes(g)).not.toContain('hiv-retest-before-art');
    expect(g).toContainEqual(expect.objectContaining({ code: 'hiv-testing-incomplete', dueDate: DAY, rule: 'HIV.B7.DT.02', description: expect.stringContaining('next assay A2') }));
  });

  test('"positive" after A1+, A2+: next A3 (HIV.B7.DT.04)', () => {
    const g = gapsOf([assay('a1', 'A1', 'reactive'), assay('a2', 'A2', 'reactive'), conclusion('c', 'positive', ['a1', 'a2'])]);
    expect(codes(g)).not.toContain('art-start');
    expect(g).toContainEqual(expect.objectContaining({ code: 'hiv-testing-incomplete', rule: 'HIV.B7.DT.04', description: expect.stringContaining('next assay A3') }));
  });

  test('"positive" after A1+, A2−: repeat A1 (HIV.B7.DT.03)', () => {
    const g = gapsOf([assay('a1', 'A1', 'reactive'), assay('a2', 'A2', 'non-reactive'), conclusion('c', 'positive', ['a1', 'a2'])]);
    expect(codes(g)).not.toContain('art-start');
    expect(g).toContainEqual(expect.objectContaining({ code: 'hiv-testing-incomplete', rule: 'HIV.B7.DT.03' }));
  });

  test('"positive" after A1+, A2+, A3−: the assays say inconclusive, retest on day + 14 (HIV.B7.DT.07)', () => {
    const g = gapsOf([assay('a1', 'A1', 'reactive'), assay('a2', 'A2', 'reactive'), assay('a3', 'A3', 'non-reactive'), conclusion('c', 'positive', ['a1', 'a2', 'a3'])], '2025-03-15');
    expect(codes(g)).not.toContain('art-start');
    expect(g).toContainEqual(expect.objectContaining({ code: 'hiv-retest', dueDate: '2025-03-15', rule: 'HIV.B7.DT.07' }));
  });

  test('"positive" after A1+, A3+ (no A2): off the strategy, test again from A1', () => {
    const g = gapsOf([assay('a1', 'A1', 'reactive'), assay('a3', 'A3', 'reactive'), conclusion('c', 'positive', ['a1', 'a3'])]);
    expect(codes(g)).not.toContain('art-start');
    expect(g).toContainEqual(expect.objectContaining({ code: 'hiv-testing-incomplete', rule: 'HIV.B7.DT', description: expect.stringContaining('from assay A1') }));
  });

  test('recorded negative, but A1+, A2+, A3+: review the conclusion with the client, overdue at once', () => {
    const g = gapsOf([assay('a1', 'A1', 'reactive'), assay('a2', 'A2', 'reactive'), assay('a3', 'A3', 'reactive'), conclusion('c', 'negative', ['a1', 'a2', 'a3'])]);
    expect(codes(g)).not.toContain('art-start');
    expect(codes(g)).not.toContain('hiv-retest');
    expect(g).toContainEqual(expect.objectContaining({ code: 'hiv-conclusion-review', dueDate: DAY, rule: 'HIV.B7.DT.08', status: 'overdue' }));
  });

  test('an invalid run is no result: A1+ then an invalid A2 still needs A2, not a repeat A1', () => {
    const g = gapsOf([assay('a1', 'A1', 'reactive'), assay('a2', 'A2', 'invalid'), conclusion('c', 'positive', ['a1', 'a2'])]);
    expect(g).toContainEqual(expect.objectContaining({ code: 'hiv-testing-incomplete', rule: 'HIV.B7.DT.02' }));
  });

  test('an invalid A1 alone is not HIV-negative: nothing to check, no retest schedule from it', () => {
    const g = gapsOf([assay('a1', 'A1', 'invalid')]);
    expect(codes(g)).toContain('hiv-test');
    expect(codes(g)).not.toContain('hiv-retest');
  });

  test('no assay on record (diagnosed elsewhere, or not visible to the caller): the conclusion stands', () => {
    expect(codes(gapsOf([conclusion('c', 'positive', ['elsewhere'])]))).toContain('art-start');
  });

  test('a later unfinished "positive" does not undo an earlier diagnosis', () => {
    const g = gapsOf([...positiveAfterAll, assay('b1', 'A1', 'reactive', '2025-03-02'), conclusion('d', 'positive', ['b1'], '2025-03-02')]);
    expect(g).toContainEqual(expect.objectContaining({ code: 'art-start', dueDate: DAY }));
  });

  test('an HIV Condition resting only on an unsupported conclusion is no diagnosis; one without such evidence is', () => {
    const unfinished = [assay('a1', 'A1', 'reactive'), conclusion('c', 'positive', ['a1'])];
    expect(codes(gapsOf([...unfinished, condition(DAY, ['c'])]))).not.toContain('art-start');
    expect(codes(gapsOf([...unfinished, condition(DAY)]))).toContain('art-start');
  });
});

describe('HIV.S.4 "Retesting prior to ART initiation" (HIV.S.4.05)', () => {
  test('diagnosed, not on ART: due from the diagnosis date, beside art-start (never instead of it)', () => {
    const g = gapsOf(positiveAfterAll);
    expect(g).toContainEqual(expect.objectContaining({ code: 'hiv-retest-before-art', dueDate: DAY, rule: 'HIV.S.4.05', status: 'due' }));
    expect(codes(g)).toContain('art-start');
  });

  test('"Overdue" and "Expiration" are both the ART start date: due, not overdue, however long; gone once ART starts', () => {
    const late = gapsOf(positiveAfterAll, '2025-09-01').find((x) => x.code === 'hiv-retest-before-art');
    expect(late).toMatchObject({ status: 'due' });
    expect(late?.overdueDate).toBeUndefined();
    expect(codes(gapsOf([...positiveAfterAll, art('2025-03-03')], '2025-03-04'))).not.toContain('hiv-retest-before-art');
  });

  test('completed by a retest with the same strategy, on a later day', () => {
    const retest = [assay('b1', 'A1', 'reactive', '2025-03-02'), assay('b2', 'A2', 'reactive', '2025-03-02'), assay('b3', 'A3', 'reactive', '2025-03-02'), conclusion('d', 'positive', ['b1', 'b2', 'b3'], '2025-03-02')];
    const g = gapsOf([...positiveAfterAll, ...retest]);
    expect(codes(g)).not.toContain('hiv-retest-before-art');
    expect(g).toContainEqual(expect.objectContaining({ code: 'art-start', dueDate: DAY }));
  });

  test('an unfinished retest does not complete it', () => {
    const g = gapsOf([...positiveAfterAll, assay('b1', 'A1', 'reactive', '2025-03-02'), conclusion('d', 'positive', ['b1'], '2025-03-02')]);
    expect(codes(g)).toContain('hiv-retest-before-art');
  });

  test('a recorded refusal closes it (a refusal is data); ART start stays offered', () => {
    const g = gapsOf([...positiveAfterAll, declined('no', '2025-03-02')]);
    expect(codes(g)).not.toContain('hiv-retest-before-art');
    expect(codes(g)).toContain('art-start');
  });

  test('diagnosed from an HIV Condition alone: also offered', () => {
    expect(gapsOf([condition(DAY)])).toContainEqual(expect.objectContaining({ code: 'hiv-retest-before-art', dueDate: DAY }));
  });
});

describe('a retest that does not verify the diagnosis (HIV.S.4.05: retest "to verify HIV status")', () => {
  const negativeRetest = (date: string, id = 'n') => [assay(`${id}1`, 'A1', 'non-reactive', date), conclusion(id, 'negative', [`${id}1`], date)];
  const review = (g: Gap[]) => g.find((x) => x.code === 'hiv-conclusion-review');

  test('HIV.B7.DT.01 (A1−) after HIV.B7.DT.08: review at once, beside art-start; it stands in for the retest before ART', () => {
    const g = gapsOf([...positiveAfterAll, ...negativeRetest('2025-03-02')]);
    expect(review(g)).toMatchObject({ dueDate: '2025-03-02', overdueDate: '2025-03-02', status: 'overdue', rule: 'HIV.S.4.05' });
    expect(review(g)?.description).toMatch(/HIV-negative on 2025-03-02 after the HIV-positive diagnosis of 2025-03-01/);
    expect(codes(g)).toContain('art-start');
    expect(codes(g)).not.toContain('hiv-retest-before-art');
  });

  test('HIV.B7.DT.07 (A1+, A2+, A3−: inconclusive) after the diagnosis: review too', () => {
    const retest = [assay('b1', 'A1', 'reactive', '2025-03-02'), assay('b2', 'A2', 'reactive', '2025-03-02'), assay('b3', 'A3', 'non-reactive', '2025-03-02'), conclusion('d', 'inconclusive', ['b1', 'b2', 'b3'], '2025-03-02')];
    expect(review(gapsOf([...positiveAfterAll, ...retest]))).toMatchObject({ rule: 'HIV.S.4.05', dueDate: '2025-03-02' });
  });

  test('on ART: a later negative is flagged for review; the viral load schedule goes on', () => {
    const g = gapsOf([...positiveAfterAll, art('2025-03-03'), ...negativeRetest('2025-06-01')], '2025-09-03');
    expect(review(g)).toMatchObject({ dueDate: '2025-06-01', rule: 'HIV.S.4.05' });
    expect(codes(g)).toContain('viral-load');
  });

  test('a "positive" label whose assays say HIV-negative (A1−) counts for its assays: review', () => {
    const g = gapsOf([...positiveAfterAll, assay('b1', 'A1', 'non-reactive', '2025-03-02'), conclusion('d', 'positive', ['b1'], '2025-03-02')]);
    expect(review(g)).toMatchObject({ rule: 'HIV.S.4.05' });
  });

  test('diagnosed from an HIV Condition, then a negative conclusion: review', () => {
    expect(review(gapsOf([condition(DAY), ...negativeRetest('2025-03-02')]))).toMatchObject({ rule: 'HIV.S.4.05' });
  });

  test('no review: a negative before the diagnosis (seroconversion), or a later positive retest that verifies it', () => {
    const before = [...negativeRetest('2024-09-01', 'old'), ...positiveAfterAll];
    expect(codes(gapsOf(before))).not.toContain('hiv-conclusion-review');
    const verified = [assay('v1', 'A1', 'reactive', '2025-03-05'), assay('v2', 'A2', 'reactive', '2025-03-05'), assay('v3', 'A3', 'reactive', '2025-03-05'), conclusion('v', 'positive', ['v1', 'v2', 'v3'], '2025-03-05')];
    expect(codes(gapsOf([...positiveAfterAll, ...negativeRetest('2025-03-02'), ...verified], '2025-03-06'))).not.toContain('hiv-conclusion-review');
  });
});
