/**
 * Hepatitis B vaccination and cervical screening in the care gaps, case by case (no server).
 * HBV: offered whether or not an HBsAg test was done or declined (SWIT 5.1; no DAK row makes a
 * negative HBsAg a condition: HIV.C.DE159 "Offer or refer for HBV testing and vaccination"),
 * unless HBsAg-positive or the series is complete; read from the seed's LOINC/SNOMED codes and the
 * hepatitis-test profile's DAK codes (HIV.D.DE405, results DE163–165).
 * Cervical: DAK HIV.S.3 rows .04–.06 (VIA or cytology) and its stop rule ("Age">50 AND two
 * consecutive negative results), SWIT 5.7 once at 30–49, with ages decided from a birth year only:
 * offered when the client may be in the band, stopped only when certainly past it.
 */
import type { Coding, Immunization, Observation, Patient, Procedure, Resource } from '@medplum/fhirtypes';
import * as C from '../../src/seed/codes';
import { type ClientRecord, clientRecord, emptyClientRecord } from '../../src/services/care-gaps-record';
import { type Gap, careGaps } from '../../src/services/care-gaps-rules';
import { ageRange } from '../../src/services/decisions/cervical-screening';

const subject = { reference: 'Patient/p1' };
const person = (over: Partial<Patient> = {}): Patient => ({ resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1990', ...over });
const gapOf = (gaps: Gap[], code: string): Gap | undefined => gaps.find((g) => g.code === code);
const fromFhir = (resources: Resource[], asOf: string, patient = person()): Gap[] => careGaps(clientRecord(patient, resources), asOf);

const obs = (id: string, code: Coding, date: string, value?: Coding, absent = false): Observation => ({
  resourceType: 'Observation', id, status: 'final', subject, effectiveDateTime: `${date}T10:00:00Z`, code: { coding: [code] },
  ...(value ? { valueCodeableConcept: { coding: [value] } } : {}),
  ...(absent ? { dataAbsentReason: { coding: [{ system: C.DATA_ABSENT, code: 'asked-declined' }] } } : {}),
});
const DAK = (code: string) => ({ system: C.DAK, code });
const dose = (id: string, date: string): Immunization => ({ resourceType: 'Immunization', id, status: 'completed', patient: subject, vaccineCode: { coding: [C.HBV_VACCINE] }, occurrenceDateTime: date });

describe('hepatitis B vaccination is offered, never conditional on an HBsAg test (SWIT 5.1, 5.6)', () => {
  const AS_OF = '2025-03-10';
  // [case, record resources, expected dose-1 due date or undefined for no gap]
  test.each<[string, Resource[], string | undefined]>([
    ['HBsAg test declined: dose 1 still offered, due from the refusal', [obs('h', C.HBSAG, '2025-03-01', undefined, true)], '2025-03-01'],
    ['no HBsAg test on record: dose 1 offered today', [], AS_OF],
    ['HBsAg negative (LOINC 39007-0, not detected): due from the test', [obs('h', C.HBSAG, '2025-03-01', C.NOT_DETECTED)], '2025-03-01'],
    ['HBsAg negative as the hepatitis-test profile records it (HIV.D.DE405 = DE164)', [obs('h', DAK('HIV.D.DE405'), '2025-03-02', DAK('HIV.D.DE164'))], '2025-03-02'],
    ['HBsAg indeterminate (HIV.D.DE165): offered, from today', [obs('h', DAK('HIV.D.DE405'), '2025-03-02', DAK('HIV.D.DE165'))], AS_OF],
    ['HBsAg positive (LOINC, detected): no vaccination gap', [obs('h', C.HBSAG, '2025-03-01', C.DETECTED)], undefined],
    ['HBsAg positive as the profile records it (HIV.D.DE163): no vaccination gap', [obs('h', DAK('HIV.D.DE405'), '2025-03-01', DAK('HIV.D.DE163'))], undefined],
    ['declined, then positive: no vaccination gap', [obs('d', C.HBSAG, '2025-01-01', undefined, true), obs('h', C.HBSAG, '2025-03-01', C.DETECTED)], undefined],
  ])('%s', (_case, resources, due) => {
    const g = gapOf(fromFhir(resources, AS_OF), 'hbv-dose');
    if (due === undefined) expect(g).toBeUndefined();
    else expect(g).toMatchObject({ dueDate: due, rule: 'HBV.STD.01', overdueDate: expect.any(String) });
  });

  test('a declined test 28 days ago: overdue like any routine offer (due + 28 days)', () => {
    const r = [obs('h', C.HBSAG, '2025-03-01', undefined, true)];
    expect(gapOf(fromFhir(r, '2025-03-28'), 'hbv-dose')).toMatchObject({ status: 'due', overdueDate: '2025-03-29' });
    expect(gapOf(fromFhir(r, '2025-03-29'), 'hbv-dose')).toMatchObject({ status: 'overdue' });
  });

  test('a started series goes on without any test (HBV.STD.02, one month after dose 1)', () => {
    expect(gapOf(fromFhir([dose('d1', '2025-01-05')], '2025-02-05'), 'hbv-dose')).toMatchObject({ dueDate: '2025-02-05', rule: 'HBV.STD.02' });
  });

  test('a completed series (0, 1, 6 months): nothing more to offer', () => {
    expect(gapOf(fromFhir([dose('d1', '2024-01-05'), dose('d2', '2024-02-05'), dose('d3', '2024-07-05')], '2025-03-10'), 'hbv-dose')).toBeUndefined();
  });
});

describe('ages from a birth year only (PII rule)', () => {
  test.each<[number | undefined, string, number, number]>([
    [1990, '2025-01-01', 34, 35],
    [1990, '2025-12-31', 34, 35],
    [2025, '2025-06-01', 0, 0],
    [undefined, '2025-06-01', 0, Number.POSITIVE_INFINITY],
  ])('born %s, on %s: %i to %i', (year, asOf, min, max) => {
    expect(ageRange(year, asOf)).toEqual({ min, max });
  });
});

const record = (over: Partial<ClientRecord> = {}): ClientRecord => ({ ...emptyClientRecord(), gender: 'female', keyPopulation: true, ...over });
const wlhiv = (birthYear: number | undefined, diagnosed: string, screens: ClientRecord['cervicalScreens'] = []): ClientRecord => record({
  birthYear, cervicalScreens: screens, conclusions: [{ id: 'c', date: `${diagnosed}T10:00:00Z`, result: 'positive', rule: 'HIV.B7.DT.08' }],
});
const cervix = (r: ClientRecord, asOf: string): Gap | undefined => gapOf(careGaps(r, asOf), 'cervical-screening');
const neg = (date: string) => ({ date, result: 'negative' as const });

describe('HIV.S.3 cervical screening of women living with HIV (VIA or cytology rows), row by row', () => {
  // [case, record, asOf, expected gap (dueDate, overdueDate, rule)]
  test.each<[string, ClientRecord, string, Partial<Gap>]>([
    ['.04 diagnosed after 25: due at diagnosis, overdue + 28 days', wlhiv(1990, '2024-03-01'), '2024-03-01', { dueDate: '2024-03-01', overdueDate: '2024-03-29', rule: 'HIV.S.3.04' }],
    ['.05 diagnosed before 25: due from the first day she may be 25 (1 Jan), overdue 12 months later', wlhiv(2001, '2020-05-01'), '2026-01-01', { dueDate: '2026-01-01', overdueDate: '2027-01-01', rule: 'HIV.S.3.05', status: 'due' }],
    ['.05 still due, not overdue, 11 months on', wlhiv(2001, '2020-05-01'), '2026-12-31', { rule: 'HIV.S.3.05', status: 'due' }],
    ['diagnosed in the year she turns 25 (maybe still 24): offered at diagnosis', wlhiv(1999, '2024-02-01'), '2024-02-01', { dueDate: '2024-02-01', rule: 'HIV.S.3.04' }],
    ['.06 rescreen: last screen + 3 years, overdue + 28 days', wlhiv(1990, '2020-01-01', [neg('2022-06-01')]), '2025-06-01', { dueDate: '2025-06-01', overdueDate: '2025-06-29', rule: 'HIV.S.3.06' }],
    ['birth year unknown: offered at diagnosis rather than withheld', wlhiv(undefined, '2024-03-01'), '2024-03-01', { dueDate: '2024-03-01', rule: 'HIV.S.3.04' }],
    ['over 50 with no screen on record: still offered', wlhiv(1960, '2024-03-01'), '2024-03-01', { rule: 'HIV.S.3.04' }],
  ])('%s', (_case, r, asOf, expected) => {
    expect(cervix(r, asOf)).toMatchObject(expected);
  });

  test('.05: not shown before the year she may turn 25', () => {
    expect(cervix(wlhiv(2001, '2020-05-01'), '2025-12-31')).toBeUndefined();
  });
});

describe('HIV.S.3 "Expiration": "Age">50 AND two consecutive negative results', () => {
  const twoNegatives = [neg('2019-06-01'), neg('2022-06-01')];
  // [case, birth year, screens, asOf, stopped]
  test.each<[string, number | undefined, ClientRecord['cervicalScreens'], string, boolean]>([
    ['born 1973, in 2025 certainly 51 or 52, two negatives: stopped', 1973, twoNegatives, '2025-06-01', true],
    ['born 1974, in 2025 50 or 51 (maybe 50, not > 50): continues', 1974, twoNegatives, '2025-06-01', false],
    ['birth year unknown: never certainly over 50, continues', undefined, twoNegatives, '2025-06-01', false],
    ['certainly over 50 with one negative only: continues', 1960, [neg('2022-06-01')], '2025-06-01', false],
    ['the latest result positive: continues', 1960, [neg('2016-06-01'), neg('2019-06-01'), { date: '2022-06-01', result: 'positive' }], '2025-06-01', false],
    ['a negative, then a screen without a recorded result: continues', 1960, [neg('2019-06-01'), { date: '2022-06-01' }], '2025-06-01', false],
    ['negative, positive, then two negatives: stopped', 1960, [neg('2013-06-01'), { date: '2016-06-01', result: 'positive' }, neg('2019-06-01'), neg('2022-06-01')], '2025-06-01', true],
  ])('%s', (_case, birthYear, screens, asOf, stopped) => {
    const g = cervix(wlhiv(birthYear, '2015-01-01', screens), asOf);
    if (stopped) expect(g).toBeUndefined();
    else expect(g).toMatchObject({ rule: 'HIV.S.3.06' });
  });

  test('results come from the cervical-screening profile (HIV.D.DE708 negative); a Procedure without outcome is no negative', () => {
    const screen = (id: string, date: string): Observation => obs(id, { system: 'https://linkcare.example.org/fhir/CodeSystem/observation-type', code: 'cervical-screening' }, date, DAK('HIV.D.DE708'));
    const procedure: Procedure = { resourceType: 'Procedure', id: 'p', status: 'completed', subject, code: { coding: [C.CERVICAL_SCREENING] }, performedDateTime: '2022-06-01T10:00:00Z' };
    const diagnosis = obs('c', C.HIV_CONCLUSION, '2015-01-01', C.HIV_POSITIVE);
    const older = person({ birthDate: '1960' });
    expect(gapOf(fromFhir([diagnosis, screen('s1', '2019-06-01'), screen('s2', '2022-06-01')], '2025-06-01', older), 'cervical-screening')).toBeUndefined();
    expect(gapOf(fromFhir([diagnosis, screen('s1', '2019-06-01'), procedure], '2025-06-01', older), 'cervical-screening')).toMatchObject({ dueDate: '2025-06-01', rule: 'HIV.S.3.06' });
  });
});

describe('SWIT 5.7: at least once for women aged 30–49, decided from the birth year', () => {
  // [case, birth year, asOf, offered]
  test.each<[string, number | undefined, string, boolean]>([
    ['born 1995: in 2025 29 or 30, may be 30: offered', 1995, '2025-03-01', true],
    ['born 1996: in 2025 at most 29: not yet', 1996, '2025-03-01', false],
    ['born 1975: in 2025 49 or 50, may still be 49: offered', 1975, '2025-03-01', true],
    ['born 1974: in 2025 at least 50: not offered', 1974, '2025-03-01', false],
    ['birth year unknown: offered rather than withheld', undefined, '2025-03-01', true],
  ])('%s', (_case, birthYear, asOf, offered) => {
    const g = cervix(record({ birthYear }), asOf);
    if (offered) expect(g).toMatchObject({ dueDate: asOf, rule: 'SWIT5.7' });
    else expect(g).toBeUndefined();
  });

  test('screened once already: nothing more under this rule', () => {
    expect(cervix(record({ birthYear: 1985, cervicalScreens: [{ date: '2024-01-01' }] }), '2025-03-01')).toBeUndefined();
  });
});
