import { parseFhirPath } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { extractIndexRows, type ExtractOptions } from '../../src/search/extract';
import type { IndexRows } from '../../src/search/index-rows';
import { loadSearchRegistry, type ParamDef } from '../../src/search/registry';
import { toCanonical } from '../../src/search/ucum';

const registry = loadSearchRegistry();
const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';
const BASE = 'https://linkcare.example.org/fhir';
const MIN = '0001-01-01T00:00:00.000Z';
const MAX = '9999-12-31T23:59:59.999Z';

type Rows = Partial<Record<keyof IndexRows, Record<string, unknown>[]>>;

/** Rows of one parameter, extracted with every parameter of the type (so dedup and cross-talk are exercised). */
function rowsOf(resource: Resource, param: string, opts: ExtractOptions = {}): Rows {
  const all = extractIndexRows(resource, registry.forType(resource.resourceType), { strict: true, ...opts });
  const out: Rows = {};
  for (const [kind, rows] of Object.entries(all) as [keyof IndexRows, { param: string }[]][]) {
    const mine = rows.filter((r) => r.param === param).map(({ param: _p, ...rest }) => rest);
    if (mine.length) out[kind] = mine;
  }
  return out;
}

const tok = (system: string | null, code: string | null, text: string | null = null, typeSystem: string | null = null, typeCode: string | null = null) => ({
  system,
  code,
  text,
  typeSystem,
  typeCode,
});
const ref = (r: { targetType?: string; targetId?: string; version?: string; url?: string; idSystem?: string; idValue?: string }) => ({
  targetType: r.targetType ?? null,
  targetId: r.targetId ?? null,
  version: r.version ?? null,
  url: r.url ?? null,
  idSystem: r.idSystem ?? null,
  idValue: r.idValue ?? null,
});
const qty = (
  value: number,
  code: string | null,
  canonicalValue: number | null,
  canonicalCode: string | null,
  system: string | null = UCUM,
  unit: string | null = null,
) => ({
  value,
  system,
  code,
  unit,
  canonicalValue,
  canonicalCode,
});
const comp = (system: string | null, code: string, second: Record<string, unknown>) => ({
  system,
  code,
  second: second.second,
  secondSystem: null,
  secondCode: null,
  secondValue: null,
  secondCanonicalValue: null,
  secondCanonicalCode: null,
  secondLow: null,
  secondHigh: null,
  secondText: null,
  ...second,
});

const obs = (extra: Record<string, unknown>): Resource =>
  ({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code: '20447-9' }] }, ...extra }) as Resource;
const hiv = { coding: [{ system: LOINC, code: '20447-9', display: 'HIV 1 RNA' }], text: 'HIV Viral Load' };

const cases: [string, Resource, string, Rows, ExtractOptions?][] = [
  [
    'Observation code: codings carry CodeableConcept.text',
    obs({ code: hiv }),
    'code',
    { token: [tok(LOINC, '20447-9', 'hiv viral load')] },
  ],
  ['Observation code: text-only concept', obs({ code: { text: 'Rapid test' } }), 'code', { token: [tok(null, null, 'rapid test')] }],
  [
    'Observation category: one row per coding, display as text',
    obs({ category: [{ coding: [{ system: 'c', code: 'laboratory', display: 'Laboratory' }, { code: 'lab' }] }] }),
    'category',
    { token: [tok('c', 'laboratory', 'laboratory'), tok(null, 'lab')] },
  ],
  ['Observation status: code primitive', obs({}), 'status', { token: [tok(null, 'final')] }],
  [
    '_tag from meta.tag',
    obs({ meta: { tag: [{ system: 'https://linkcare.example.org/tags', code: 'clinic-a', display: 'Clínica A' }] } }),
    '_tag',
    { token: [tok('https://linkcare.example.org/tags', 'clinic-a', 'clinica a')] },
  ],
  [
    '_profile drops the canonical version',
    obs({ meta: { profile: ['http://p.example/StructureDefinition/vl|1.2'] } }),
    '_profile',
    { uri: [{ value: 'http://p.example/StructureDefinition/vl' }] },
  ],
  ['_id and _lastUpdated are columns, not rows', obs({ id: 'o1', meta: { lastUpdated: '2024-01-01T00:00:00Z' } }), '_lastUpdated', {}],
  [
    'value-quantity: 1 mg is also 0.001 g',
    obs({ valueQuantity: { value: 1, unit: 'mg', system: UCUM, code: 'mg' } }),
    'value-quantity',
    { quantity: [qty(1, 'mg', 0.001, 'g', UCUM, 'mg')] },
  ],
  [
    'value-quantity: viral load copies/mL to /L',
    obs({ valueQuantity: { value: 40, system: UCUM, code: '{copies}/mL' } }),
    'value-quantity',
    { quantity: [qty(40, '{copies}/mL', 40000, '/L')] },
  ],
  [
    'value-quantity: non-UCUM units are kept as written',
    obs({ valueQuantity: { value: 2, system: 'http://example.org/units', code: 'tabs', unit: 'tablets' } }),
    'value-quantity',
    { quantity: [qty(2, 'tabs', null, null, 'http://example.org/units', 'tablets')] },
  ],
  ['value-quantity: not a CodeableConcept value', obs({ valueCodeableConcept: { text: 'x' } }), 'value-quantity', {}],
  [
    'date: day precision',
    obs({ effectiveDateTime: '2024-04-30' }),
    'date',
    { date: [{ low: '2024-04-30T00:00:00.000Z', high: '2024-05-01T00:00:00.000Z' }] },
  ],
  [
    'date: seconds in a time zone',
    obs({ effectiveDateTime: '2024-04-30T09:15:00+02:00' }),
    'date',
    { date: [{ low: '2024-04-30T07:15:00.000Z', high: '2024-04-30T07:15:01.000Z' }] },
  ],
  [
    'date: instant with milliseconds',
    obs({ effectiveInstant: '2024-04-30T09:15:00.250Z' }),
    'date',
    { date: [{ low: '2024-04-30T09:15:00.250Z', high: '2024-04-30T09:15:00.251Z' }] },
  ],
  [
    'date: period covers start.low to end.high',
    obs({ effectivePeriod: { start: '2024-01', end: '2024-02-15' } }),
    'date',
    { date: [{ low: '2024-01-01T00:00:00.000Z', high: '2024-02-16T00:00:00.000Z' }] },
  ],
  [
    'date: open-ended period',
    obs({ effectivePeriod: { start: '2024' } }),
    'date',
    { date: [{ low: '2024-01-01T00:00:00.000Z', high: MAX }] },
  ],
  [
    'date: period with only an end',
    obs({ effectivePeriod: { end: '2024' } }),
    'date',
    { date: [{ low: MIN, high: '2025-01-01T00:00:00.000Z' }] },
  ],
  [
    'date: timing events and bounds',
    obs({ effectiveTiming: { event: ['2024-03-01'], repeat: { boundsPeriod: { start: '2024-03-01', end: '2024-03-10' } } } }),
    'date',
    { date: [{ low: '2024-03-01T00:00:00.000Z', high: '2024-03-02T00:00:00.000Z' }, { low: '2024-03-01T00:00:00.000Z', high: '2024-03-11T00:00:00.000Z' }] },
  ],
  ['date: unparseable values are skipped', obs({ effectiveDateTime: '30/04/2024' }), 'date', {}],
  [
    'subject: local reference',
    obs({ subject: { reference: 'Patient/123' } }),
    'subject',
    { reference: [ref({ targetType: 'Patient', targetId: '123' })] },
  ],
  [
    'patient: Patient reference',
    obs({ subject: { reference: 'Patient/123' } }),
    'patient',
    { reference: [ref({ targetType: 'Patient', targetId: '123' })] },
  ],
  ['patient: not a Group reference', obs({ subject: { reference: 'Group/g1' } }), 'patient', {}],
  [
    'patient: absolute reference under this server is local',
    obs({ subject: { reference: `${BASE}/Patient/123` } }),
    'patient',
    { reference: [ref({ targetType: 'Patient', targetId: '123' })] },
    { baseUrl: `${BASE}/` },
  ],
  [
    'subject: absolute reference elsewhere is a URL',
    obs({ subject: { reference: 'https://other.example/fhir/Patient/9' } }),
    'patient',
    { reference: [ref({ url: 'https://other.example/fhir/Patient/9' })] },
    { baseUrl: BASE },
  ],
  [
    'subject: urn',
    obs({ subject: { reference: 'urn:uuid:6b1c0f0e-0000-4000-8000-000000000001' } }),
    'subject',
    { reference: [ref({ url: 'urn:uuid:6b1c0f0e-0000-4000-8000-000000000001' })] },
  ],
  ['subject: contained reference is skipped', obs({ subject: { reference: '#p1' } }), 'subject', {}],
  [
    'subject: Reference.identifier and reference together',
    obs({ subject: { reference: 'Patient/123', identifier: { system: 'https://linkcare.example.org/mrn', value: 'MRN-1' } } }),
    'subject',
    { reference: [ref({ targetType: 'Patient', targetId: '123', idSystem: 'https://linkcare.example.org/mrn', idValue: 'MRN-1' })] },
  ],
  [
    'patient: identifier-only reference typed Patient',
    obs({ subject: { type: 'Patient', identifier: { system: 's', value: 'v' } } }),
    'patient',
    { reference: [ref({ idSystem: 's', idValue: 'v' })] },
  ],
  [
    'has-member: versioned reference',
    obs({ hasMember: [{ reference: 'Observation/o2/_history/3' }] }),
    'has-member',
    { reference: [ref({ targetType: 'Observation', targetId: 'o2', version: '3' })] },
  ],
  [
    'code-value-quantity: canonical second component (mg/dL → g/L)',
    obs({ code: hiv, valueQuantity: { value: 90, system: UCUM, code: 'mg/dL' } }),
    'code-value-quantity',
    { composite: [comp(LOINC, '20447-9', { second: 'quantity', secondValue: 90, secondSystem: UCUM, secondCode: 'mg/dL', secondCanonicalValue: 0.9, secondCanonicalCode: 'g/L' })] },
  ],
  [
    'combo-code-value-quantity: observation and components, non-UCUM as written',
    obs({
      valueQuantity: { value: 5, system: 'urn:units', code: 'u' },
      component: [
        { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 120, system: UCUM, code: 'mm[Hg]' } },
        { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueCodeableConcept: { coding: [{ code: 'x' }] } },
      ],
    }),
    'combo-code-value-quantity',
    {
      composite: [
        comp(LOINC, '20447-9', { second: 'quantity', secondValue: 5, secondSystem: 'urn:units', secondCode: 'u' }),
        comp(LOINC, '8480-6', { second: 'quantity', secondValue: 120, secondSystem: UCUM, secondCode: 'mm[Hg]' }),
      ],
    },
  ],
  [
    'component-code-value-concept: token second component',
    obs({ component: [{ code: { coding: [{ system: LOINC, code: 'c' }] }, valueCodeableConcept: { coding: [{ system: 's', code: 'pos' }, { code: 'p' }] } }] }),
    'component-code-value-concept',
    {
      composite: [
        comp(LOINC, 'c', { second: 'token', secondSystem: 's', secondCode: 'pos' }),
        comp(LOINC, 'c', { second: 'token', secondSystem: null, secondCode: 'p' }),
      ],
    },
  ],
  [
    'code-value-date: date second component',
    obs({ valueDateTime: '2024-02' }),
    'code-value-date',
    { composite: [comp(LOINC, '20447-9', { second: 'date', secondLow: '2024-02-01T00:00:00.000Z', secondHigh: '2024-03-01T00:00:00.000Z' })] },
  ],
  [
    'code-value-string: string second component',
    obs({ valueString: 'Não Reagente' }),
    'code-value-string',
    { composite: [comp(LOINC, '20447-9', { second: 'string', secondText: 'nao reagente' })] },
  ],
  [
    'Patient identifier: type for :of-type',
    {
      resourceType: 'Patient',
      identifier: [
        {
          system: 'https://linkcare.example.org/mrn',
          value: 'MRN-1',
          type: { text: 'Medical Record', coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
        },
      ],
    },
    'identifier',
    { token: [tok('https://linkcare.example.org/mrn', 'MRN-1', 'medical record', 'http://terminology.hl7.org/CodeSystem/v2-0203', 'MR')] },
  ],
  [
    'Patient identifier: duplicates collapse',
    { resourceType: 'Patient', identifier: [{ system: 's', value: 'v' }, { system: 's', value: 'v' }, { system: 's' }] },
    'identifier',
    { token: [tok('s', 'v')] },
  ],
  ['Patient gender', { resourceType: 'Patient', gender: 'female' }, 'gender', { token: [tok(null, 'female')] }],
  ['Patient active boolean', { resourceType: 'Patient', active: false }, 'active', { token: [tok(null, 'false')] }],
  ['Patient deceased absent is false', { resourceType: 'Patient' }, 'deceased', { token: [tok(null, 'false')] }],
  [
    'Patient deceased date is true',
    { resourceType: 'Patient', deceasedDateTime: '2020-01-01' },
    'deceased',
    { token: [tok(null, 'true')] },
  ],
  [
    'Patient email only',
    { resourceType: 'Patient', telecom: [{ system: 'phone', value: '+55 11 9' }, { system: 'email', value: 'a@b.org' }] },
    'email',
    { token: [tok('email', 'a@b.org')] },
  ],
  [
    'Patient birthdate: year only',
    { resourceType: 'Patient', birthDate: '1990' },
    'birthdate',
    { date: [{ low: '1990-01-01T00:00:00.000Z', high: '1991-01-01T00:00:00.000Z' }] },
  ],
  [
    'Patient name: each part of a HumanName',
    { resourceType: 'Patient', name: [{ use: 'official', text: 'Dra. Maria  José Silva', family: 'Silva', given: ['Maria', 'José'], prefix: ['Dra.'] }] },
    'name',
    {
      string: [
        { value: 'dra. maria jose silva', raw: 'Dra. Maria  José Silva' },
        { value: 'silva', raw: 'Silva' },
        { value: 'maria', raw: 'Maria' },
        { value: 'jose', raw: 'José' },
        { value: 'dra.', raw: 'Dra.' },
      ],
    },
  ],
  [
    'Patient address: lines, city, state, postal code, country',
    {
      resourceType: 'Patient',
      address: [{ use: 'home', line: ['Rua das Flores 10'], city: 'São Paulo', state: 'SP', postalCode: '01000-000', country: 'BR' }],
    },
    'address',
    {
      string: [
        { value: 'rua das flores 10', raw: 'Rua das Flores 10' },
        { value: 'sao paulo', raw: 'São Paulo' },
        { value: 'sp', raw: 'SP' },
        { value: '01000-000', raw: '01000-000' },
        { value: 'br', raw: 'BR' },
      ],
    },
  ],
  [
    'Organization name: accents and case folded, raw kept',
    { resourceType: 'Organization', name: 'Clínica São', alias: ['CS  Centro'] },
    'name',
    { string: [{ value: 'clinica sao', raw: 'Clínica São' }, { value: 'cs centro', raw: 'CS  Centro' }] },
  ],
  [
    'Task deadline (project parameter)',
    { resourceType: 'Task', status: 'requested', intent: 'order', restriction: { period: { end: '2024-06-30' } } },
    'deadline',
    { date: [{ low: '2024-06-30T00:00:00.000Z', high: '2024-07-01T00:00:00.000Z' }] },
  ],
  [
    'Questionnaire url',
    { resourceType: 'Questionnaire', status: 'active', url: 'https://linkcare.example.org/Questionnaire/intake' },
    'url',
    { uri: [{ value: 'https://linkcare.example.org/Questionnaire/intake' }] },
  ],
  [
    'QuestionnaireResponse questionnaire: canonical without version',
    { resourceType: 'QuestionnaireResponse', status: 'completed', questionnaire: 'https://linkcare.example.org/Questionnaire/intake|2.0' },
    'questionnaire',
    { reference: [ref({ url: 'https://linkcare.example.org/Questionnaire/intake' })] },
  ],
  [
    'Condition onset-date: only the dateTime choice',
    { resourceType: 'Condition', subject: { reference: 'Patient/1' }, onsetString: '2020' },
    'onset-date',
    {},
  ],
  [
    'Condition onset-info: the string choice',
    { resourceType: 'Condition', subject: { reference: 'Patient/1' }, onsetString: 'Na Infância' },
    'onset-info',
    { string: [{ value: 'na infancia', raw: 'Na Infância' }] },
  ],
  [
    'Condition onset-age: Age to seconds',
    { resourceType: 'Condition', subject: { reference: 'Patient/1' }, onsetAge: { value: 2, system: UCUM, code: 'a' } },
    'onset-age',
    { quantity: [qty(2, 'a', 63115200, 's')] },
  ],
  [
    'Group characteristic-value: a Quantity value is not a token',
    {
      resourceType: 'Group',
      type: 'person',
      actual: true,
      characteristic: [
        { code: { coding: [{ code: 'sex-work' }] }, valueBoolean: true, exclude: false },
        { code: { coding: [{ code: 'age' }] }, valueQuantity: { value: 18, system: UCUM, code: 'a' }, exclude: false },
      ],
    } as Resource,
    'characteristic-value',
    { composite: [comp(null, 'sex-work', { second: 'token', secondCode: 'true' })] },
  ],
  [
    'Encounter class: classHistory is another element',
    { resourceType: 'Encounter', status: 'finished', classHistory: [{ class: { code: 'AMB' } }] } as Resource,
    'class',
    {},
  ],
];

describe('extractIndexRows', () => {
  // Rows padded to five columns: jest hands a `done` callback to a function with more parameters than the row.
  const padded = cases.map(([name, resource, param, expected, opts]) => [name, resource, param, expected, opts ?? {}] as const);
  test.each(padded)('%s', (_name, resource, param, expected, opts) => {
    expect(rowsOf(resource, param, opts)).toEqual(expected);
  });

  test('number and Money quantity parameters', () => {
    const def = (base: string, code: string, type: ParamDef['type'], expression: string): ParamDef => ({
      base,
      code,
      type,
      url: `urn:test:${code}`,
      expression,
      atom: parseFhirPath(expression),
      targets: [],
      resource: {
        resourceType: 'SearchParameter',
        url: `urn:test:${code}`,
        name: code,
        status: 'active',
        description: code,
        code,
        base: [base as 'Patient'],
        type,
      },
    });
    const imm = { resourceType: 'Immunization', protocolApplied: [{ doseNumberPositiveInt: 2 }, { doseNumberString: 'booster' }] } as Resource;
    expect(extractIndexRows(imm, [def('Immunization', 'dose', 'number', 'Immunization.protocolApplied.doseNumber')], { strict: true }).number).toEqual([
      { param: 'dose', value: 2 },
    ]);
    const claim = { resourceType: 'Claim', total: { value: 10.5, currency: 'BRL' } } as Resource;
    expect(extractIndexRows(claim, [def('Claim', 'total', 'quantity', 'Claim.total')], { strict: true }).quantity).toEqual([
      { param: 'total', ...qty(10.5, 'BRL', null, null, 'urn:iso:std:iso:4217') },
    ]);
  });

  test('odd data yields what it can and never throws', () => {
    const odd = obs({
      code: 'not-a-concept',
      category: [{ coding: 'nope' }, null, { coding: [null, 7, { code: 5 }] }],
      subject: 42,
      effectivePeriod: { start: 'garbage' },
      valueQuantity: { value: '1', code: 'mg' },
      component: [{ code: null, valueQuantity: { value: Infinity } }, 'x'],
      identifier: [{}, { value: '' }],
    });
    expect(() => extractIndexRows(odd, registry.forType('Observation'), { strict: true })).not.toThrow();
    expect(rowsOf(odd, 'code')).toEqual({ token: [tok(null, 'not-a-concept')] });
    expect(rowsOf(odd, 'category')).toEqual({});
  });

  test('the fast path agrees with Medplum FHIRPath on every case', () => {
    for (const [, resource, , , opts] of cases) {
      // Medplum's resolve() cannot type absolute URLs; that difference is covered by the cases above.
      if (opts?.baseUrl) continue;
      const params = registry.forType(resource.resourceType);
      const fast = extractIndexRows(resource, params, { strict: true });
      expect(extractIndexRows(resource, params, { strict: true, fhirpathOnly: true })).toEqual(fast);
    }
  });
});

describe('toCanonical', () => {
  test.each([
    [1, 'mg', { value: 0.001, code: 'g' }],
    [2.5, 'kg', { value: 2500, code: 'g' }],
    [90, 'mg/dL', { value: 0.9, code: 'g/L' }],
    [3, 'ng/mL', { value: 0.000003, code: 'g/L' }],
    [250, 'mL', { value: 0.25, code: 'L' }],
    [1, 'a', { value: 31557600, code: 's' }],
    [1, 'mo', { value: 2629800, code: 's' }],
    [90, 'min', { value: 5400, code: 's' }],
    [5.4, 'mmol/L', { value: 0.0054, code: 'mol/L' }],
    [500, '10*3/uL', { value: 500000000000, code: '/L' }],
    [40, '{copies}/mL', { value: 40000, code: '/L' }],
    [0.3, 'umol', { value: 3e-7, code: 'mol' }],
    [170, 'cm', { value: 1.7, code: 'm' }],
    [10, '[in_i]', { value: 0.254, code: 'm' }],
    [1, '[lb_av]', { value: 453.59237, code: 'g' }],
    [37.5, 'Cel', { value: 37.5, code: 'Cel' }],
  ])('%d %s', (value, code, expected) => {
    expect(toCanonical(value, code)).toEqual(expected);
  });

  test('unknown units and non-finite values are not converted', () => {
    expect(toCanonical(1, '[degF]')).toBeUndefined();
    expect(toCanonical(1, 'MG')).toBeUndefined();
    expect(toCanonical(Number.NaN, 'mg')).toBeUndefined();
  });
});
