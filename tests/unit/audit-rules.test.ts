/** The subset of search AuditEvents offer, decided in the parser for every store (src/search/audit-rules.ts). */
import { parseSearch } from '../../src/search/parse';
import { loadSearchRegistry } from '../../src/search/registry';
import type { QueryPairs } from '../../src/fhir/context';

const registry = loadSearchRegistry();
const parse = (types: string[], query: QueryPairs) => () => parseSearch(registry, types, query);

test.each([
  [[['_sort', 'agent']]],
  [[['subtype:text', 'read']]],
  [[['outcome:in', 'https://example.org/vs']]],
  [[['date:above', '2020']]],
] as [QueryPairs][])('AuditEvent?%j → 400 before any store sees it', (query) => {
  expect(parse(['AuditEvent'], query)).toThrow(/AuditEvent searches do not support|not supported/);
});

test.each([
  [[['_sort', '-date']]],
  [[['outcome:not', '4']]],
  [[['agent:identifier', 'https://example.org/user|u1']]],
  [[['agent:missing', 'true']]],
  [[['entity:Organization', 'abc']]],
] as [QueryPairs][])('AuditEvent?%j is accepted', (query) => {
  expect(parse(['AuditEvent'], query)).not.toThrow();
});

test('the same query on another type is not held to the AuditEvent subset', () => {
  expect(parse(['Observation'], [['code:text', 'viral load'], ['_sort', 'code']])).not.toThrow();
});
