import { applyJsonPatch } from '../../src/fhir/json-patch';
import { OperationOutcomeError } from '../../src/fhir/outcome';

const doc = { a: 1, list: ['x', 'y'], nested: { 'k/e~y': true } };

test('RFC 6902 operations', () => {
  expect(applyJsonPatch(doc, [{ op: 'add', path: '/b', value: 2 }])).toEqual({ ...doc, b: 2 });
  expect(applyJsonPatch(doc, [{ op: 'add', path: '/list/1', value: 'z' }])).toMatchObject({ list: ['x', 'z', 'y'] });
  expect(applyJsonPatch(doc, [{ op: 'add', path: '/list/-', value: 'z' }])).toMatchObject({ list: ['x', 'y', 'z'] });
  expect(applyJsonPatch(doc, [{ op: 'remove', path: '/list/0' }])).toMatchObject({ list: ['y'] });
  expect(applyJsonPatch(doc, [{ op: 'replace', path: '/a', value: 5 }])).toMatchObject({ a: 5 });
  expect(applyJsonPatch(doc, [{ op: 'move', from: '/a', path: '/c' }])).toEqual({ list: ['x', 'y'], nested: doc.nested, c: 1 });
  expect(applyJsonPatch(doc, [{ op: 'copy', from: '/list', path: '/copy' }])).toMatchObject({ copy: ['x', 'y'] });
  expect(applyJsonPatch(doc, [{ op: 'remove', path: '/nested/k~1e~0y' }])).toMatchObject({ nested: {} });
  expect(applyJsonPatch(doc, [{ op: 'test', path: '/list', value: ['x', 'y'] }])).toEqual(doc);
});

test('the input is not modified', () => {
  const copy = JSON.parse(JSON.stringify(doc));
  applyJsonPatch(doc, [{ op: 'remove', path: '/list/0' }]);
  expect(doc).toEqual(copy);
});

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    return (e as OperationOutcomeError).status;
  }
  return undefined;
}

test('malformed patches are 400, patches that cannot apply are 422', () => {
  expect(statusOf(() => applyJsonPatch(doc, {}))).toBe(400);
  expect(statusOf(() => applyJsonPatch(doc, [{ op: 'frobnicate', path: '/a' }]))).toBe(400);
  expect(statusOf(() => applyJsonPatch(doc, [{ op: 'add', path: 'a', value: 1 }]))).toBe(400);
  expect(statusOf(() => applyJsonPatch(doc, [{ op: 'add', path: '/__proto__/x', value: 1 }]))).toBe(400);
  expect(statusOf(() => applyJsonPatch(doc, [{ op: 'replace', path: '/missing', value: 1 }]))).toBe(422);
  expect(statusOf(() => applyJsonPatch(doc, [{ op: 'remove', path: '/list/5' }]))).toBe(422);
  expect(statusOf(() => applyJsonPatch(doc, [{ op: 'test', path: '/a', value: 2 }]))).toBe(422);
  expect(statusOf(() => applyJsonPatch(doc, [{ op: 'move', from: '/nested', path: '/nested/inner' }]))).toBe(422);
});
