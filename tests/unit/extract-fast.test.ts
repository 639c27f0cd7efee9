/**
 * The shortcuts of write-time indexing must not change a single row: the element gate (parameters
 * whose starting elements are absent are skipped), the per-type plan cache and the row sink.
 */
import type { Resource } from '@medplum/fhirtypes';
import { extractIndexRows } from '../../src/search/extract';
import { emptyRows, normalizeString, type IndexRows } from '../../src/search/index-rows';
import { loadSearchRegistry } from '../../src/search/registry';
import { RowSink } from '../../src/search/row-sink';

const registry = loadSearchRegistry();
const BASE = 'https://linkcare.example.org/fhir';

/** Rows with every shortcut, and with Medplum's engine on every expression (no gate, no fast path). */
function bothWays(resource: Resource): [IndexRows, IndexRows] {
  const params = registry.forType(resource.resourceType);
  return [
    extractIndexRows(resource, params, { baseUrl: BASE, strict: true }),
    extractIndexRows(resource, params, { baseUrl: BASE, strict: true, fhirpathOnly: true }),
  ];
}

describe('element gate', () => {
  it('indexes choice elements reached through their stem (valueQuantity, effectivePeriod, onsetDateTime)', () => {
    const obs = {
      resourceType: 'Observation', id: 'o1', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '23876-6' }] },
      subject: { reference: 'Patient/p1' }, effectivePeriod: { start: '2025-01-01', end: '2025-01-02' },
      valueQuantity: { value: 40, system: 'http://unitsofmeasure.org', code: '{copies}/mL' },
    } as Resource;
    const [fast, slow] = bothWays(obs);
    expect(fast).toEqual(slow);
    expect(fast.quantity.map((r) => r.param).sort()).toEqual(['combo-value-quantity', 'value-quantity']);
    expect(fast.date.map((r) => r.param)).toEqual(['date']);
    const condition = { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' }, onsetDateTime: '2024-05-01' } as Resource;
    const [cf, cs] = bothWays(condition);
    expect(cf).toEqual(cs);
    expect(cf.date.map((r) => r.param)).toContain('onset-date');
  });

  it('keeps presence parameters, which are false when the element is absent (Patient.deceased)', () => {
    const [fast, slow] = bothWays({ resourceType: 'Patient', id: 'p1', gender: 'female' } as Resource);
    expect(fast).toEqual(slow);
    expect(fast.token).toContainEqual(expect.objectContaining({ param: 'deceased', code: 'false' }));
  });

  it('treats null and empty elements like the evaluator does', () => {
    const odd = { resourceType: 'Observation', id: 'o2', status: 'final', code: { text: 'Viral load' }, subject: null, valueString: 'Détectable' } as unknown as Resource;
    const [fast, slow] = bothWays(odd);
    expect(fast).toEqual(slow);
    expect(fast.reference).toEqual([]);
  });

  it('gives the same rows when the caller passes another parameter list for the same type', () => {
    const obs = { resourceType: 'Observation', id: 'o3', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } } as Resource;
    const all = extractIndexRows(obs, registry.forType('Observation'));
    const one = extractIndexRows(obs, [registry.get('Observation', 'subject')!]);
    expect(one.reference).toEqual(all.reference.filter((r) => r.param === 'subject'));
    expect(one.token).toEqual([]);
    // And back to the full list: the cached plan of the single parameter is not reused.
    expect(extractIndexRows(obs, registry.forType('Observation'))).toEqual(all);
  });
});

describe('RowSink', () => {
  /** The rule it implements: a row is dropped when an identical row of the same kind came before. */
  function naive(pushes: [keyof IndexRows, Record<string, unknown>][]): IndexRows {
    const rows = emptyRows() as unknown as Record<string, Record<string, unknown>[]>;
    for (const [kind, row] of pushes) if (!rows[kind]!.some((r) => JSON.stringify(r) === JSON.stringify(row))) rows[kind]!.push(row);
    return rows as unknown as IndexRows;
  }

  it('drops exact repeats within a kind and parameter, and nothing else', () => {
    const t = (param: string, code: string | null, text: string | null = null) => ({ param, system: 's', code, text, typeSystem: null, typeCode: null });
    const pushes: [keyof IndexRows, Record<string, unknown>][] = [
      ['token', t('code', 'a')],
      ['token', t('combo-code', 'a')],
      ['token', t('code', 'a')],
      ['token', t('code', 'b')],
      ['token', t('code', 'b')],
      ['token', t('code', null, 'null')],
      ['token', t('code', 'null')],
      ['token', t('code', null)],
      ['string', { param: 'code', value: 'a', raw: 'a' }],
      ['string', { param: 'code', value: 'a', raw: 'a' }],
    ];
    const sink = new RowSink();
    for (const [kind, row] of pushes) sink.push(kind, row as never);
    expect(sink.rows).toEqual(naive(pushes));
    expect(sink.rows.token).toHaveLength(6);
    expect(sink.rows.string).toHaveLength(1);
  });
});

describe('normalizeString', () => {
  it('answers the same from its table as when computed, for short and long strings', () => {
    const long = `Ça  Va ${'é'.repeat(200)}`;
    for (let i = 0; i < 2; i++) {
      expect(normalizeString('  Crème   Brûlée ')).toBe('creme brulee');
      expect(normalizeString(long)).toBe(`ca va ${'e'.repeat(200)}`);
    }
  });
});
