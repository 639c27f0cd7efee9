/** Unit tests of the de-identification rules (dates, ids, free text, sites). */
import type { StoredVersion } from '../../src/store/port';
import { MAX_SHIFT_DAYS, clientShiftDays, monthOf, shiftDate } from '../../src/export/dates';
import { deidentify, pseudoId } from '../../src/export/deidentify';

const key = Buffer.alloc(32, 7);

describe('dates', () => {
  test('shift keeps precision and time of day; months move by whole months; years stay', () => {
    expect(shiftDate('2024-02-28', 2)).toBe('2024-03-01');
    expect(shiftDate('2024-03-05T10:00:00+02:00', -10)).toBe('2024-02-24T10:00:00+02:00');
    expect(shiftDate('2024-03-05T10:00:00.123Z', 1)).toBe('2024-03-06T10:00:00.123Z');
    expect(shiftDate('2024-12', 40)).toBe('2025-01');
    expect(shiftDate('1994', 100)).toBe('1994');
  });
  test('month cut', () => {
    expect(monthOf('2024-03-05T10:00:00Z')).toBe('2024-03');
    expect(monthOf('2024')).toBe('2024');
  });
  test('per-client offsets are never zero, bounded, stable per client and differ between clients', () => {
    const offsets = Array.from({ length: 500 }, (_, i) => clientShiftDays(key, `p${i}`));
    expect(offsets.every((d) => d !== 0 && Math.abs(d) <= MAX_SHIFT_DAYS)).toBe(true);
    expect(clientShiftDays(key, 'p1')).toBe(offsets[1]);
    expect(new Set(offsets).size).toBeGreaterThan(100);
  });
});

describe('deidentify', () => {
  const large = (ref: string) => ref === 'Organization/big';
  const ctx = { key, dates: 'shift' as const, isLargeSite: large };
  const v = (resource: Record<string, unknown>, patient?: string): StoredVersion =>
    ({ type: resource.resourceType as string, id: resource.id as string, versionId: '1', lastUpdated: '2024-01-01T00:00:00Z', deleted: false, method: 'POST', resource, patient }) as unknown as StoredVersion;

  test('removes identifiers, extensions, free text and contained; maps references', () => {
    const out = deidentify(v({
      resourceType: 'Task', id: 't1', status: 'requested', intent: 'order', meta: { versionId: '1' },
      identifier: [{ value: 'LAB-1' }], note: [{ text: 'private' }], description: 'x', contained: [{ resourceType: 'Patient' }],
      extension: [{ url: 'http://x', valueString: 'y' }], for: { reference: 'Patient/p1', display: 'Ana' },
      owner: { reference: 'Organization/tiny' }, requester: { reference: 'Organization/big' },
      focus: { reference: 'http://elsewhere/ServiceRequest/1' },
      input: [{ type: { text: 'why', coding: [{ code: 'c', display: 'd' }] }, valueString: 'free' }],
      authoredOn: '2024-05-01',
    }, 'p1'), ctx) as unknown as Record<string, unknown>;
    expect(out).toEqual({
      resourceType: 'Task', id: pseudoId(key, 'Task', 't1'), status: 'requested', intent: 'order',
      for: { reference: `Patient/${pseudoId(key, 'Patient', 'p1')}` },
      owner: { display: 'small site (generalised)' }, requester: { reference: 'Organization/big' },
      input: [{ type: { coding: [{ code: 'c' }] } }],
      authoredOn: shiftDate('2024-05-01', clientShiftDays(key, 'p1')),
    });
  });

  test('types outside the release set and small sites are withheld', () => {
    expect(deidentify(v({ resourceType: 'Consent', id: 'c' }), ctx)).toBeUndefined();
    expect(deidentify(v({ resourceType: 'AuditEvent', id: 'a' }), ctx)).toBeUndefined();
    expect(deidentify(v({ resourceType: 'Organization', id: 'tiny', name: 'T' }), ctx)).toBeUndefined();
    expect(deidentify(v({ resourceType: 'Organization', id: 'big', name: 'Big clinic', address: [{ line: ['1 Road'], city: 'C' }] }), ctx)).toEqual({ resourceType: 'Organization', id: 'big', name: 'Big clinic', address: [{ city: 'C' }] });
  });

  test('a Patient keeps only gender, birth year, status, site and key population; no name even if one slipped in', () => {
    const out = deidentify(v({ resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1994-03', name: [{ text: 'Ana' }], identifier: [{ value: 'CODE' }] }), ctx) as unknown as Record<string, unknown>;
    expect(out).toEqual({ resourceType: 'Patient', id: pseudoId(key, 'Patient', 'p1'), gender: 'female', birthDate: '1994', identifier: [expect.objectContaining({ value: expect.any(String) })] });
  });

  test('month mode drops instants, which cannot carry a month', () => {
    const out = deidentify(v({ resourceType: 'Observation', id: 'o', status: 'final', code: {}, issued: '2024-05-01T10:00:00Z', effectiveDateTime: '2024-05-01T10:00:00Z' }, 'p1'), { ...ctx, dates: 'month' }) as unknown as Record<string, unknown>;
    expect(out.issued).toBeUndefined();
    expect(out.effectiveDateTime).toBe('2024-05');
  });

  test('a page memo of keyed hashes changes nothing in the output and holds each client and reference once', () => {
    const memo = new Map<string, string | number>();
    const records = [
      v({ resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1994-03' }),
      ...[1, 2, 3].map((i) => v({ resourceType: 'Observation', id: `o${i}`, status: 'final', code: {}, subject: { reference: 'Patient/p1' }, effectiveDateTime: `2024-05-0${i}T10:00:00Z` }, 'p1')),
      v({ resourceType: 'Observation', id: 'o9', status: 'final', code: {}, subject: { reference: 'Patient/p2' }, effectiveDateTime: '2024-05-09' }, 'p2'),
    ];
    for (const dates of ['shift', 'month'] as const) {
      for (const r of records) expect(deidentify(r, { ...ctx, dates, memo })).toEqual(deidentify(r, { ...ctx, dates }));
    }
    expect([...memo.keys()].sort()).toEqual(['id|Observation/o1', 'id|Observation/o2', 'id|Observation/o3', 'id|Observation/o9', 'id|Patient/p1', 'id|Patient/p2', 'shift|p1', 'shift|p2']);
    expect(memo.get('shift|p1')).toBe(clientShiftDays(key, 'p1'));
  });
});
