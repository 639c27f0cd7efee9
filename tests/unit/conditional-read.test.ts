/** The 304 decision of conditional read (src/fhir/conditional-read.ts; RFC 9110 §13.2.2 precedence). */
import { notModified } from '../../src/fhir/conditional-read';

const v = { versionId: '3', lastUpdated: '2026-05-01T10:00:00.250Z' };

test.each([
  ['W/"3"', true],
  ['"3"', true],
  ['3', true],
  ['W/"1", W/"3"', true],
  ['*', true],
  ['W/"2"', false],
  ['W/"33"', false],
  ['garbage, "x y"', false],
])('If-None-Match %s → %s', (ifNoneMatch, expected) => {
  expect(notModified({ ifNoneMatch }, v)).toBe(expected);
});

test.each([
  // Last-Modified is sent as Fri, 01 May 2026 10:00:00 GMT: the milliseconds are not held against the client.
  ['Fri, 01 May 2026 10:00:00 GMT', true],
  ['Fri, 01 May 2026 09:59:59 GMT', false],
  ['2026-05-01T10:00:00Z', true],
  ['2026-05-02T00:00:00Z', true],
  ['not a date', false],
])('If-Modified-Since %s → %s', (ifModifiedSince, expected) => {
  expect(notModified({ ifModifiedSince }, v)).toBe(expected);
});

test('If-None-Match decides when both are present; neither → never 304', () => {
  expect(notModified({ ifNoneMatch: 'W/"2"', ifModifiedSince: '2030-01-01T00:00:00Z' }, v)).toBe(false);
  expect(notModified({ ifNoneMatch: 'W/"3"', ifModifiedSince: '2000-01-01T00:00:00Z' }, v)).toBe(true);
  expect(notModified({}, v)).toBe(false);
});
