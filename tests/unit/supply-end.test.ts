/** The supply-end value (src/search/supply-end.ts): start day + days supplied, by unit. */
import type { Resource } from '@medplum/fhirtypes';
import { supplyEnd } from '../../src/search/supply-end';

const UCUM = 'http://unitsofmeasure.org';
const dispense = (whenHandedOver: string | undefined, daysSupply?: object): Resource =>
  ({ resourceType: 'MedicationDispense', status: 'completed', whenHandedOver, daysSupply }) as Resource;
const request = (authoredOn: string, expectedSupplyDuration?: object): Resource =>
  ({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: {}, authoredOn, dispenseRequest: { expectedSupplyDuration } }) as Resource;

test.each([
  ['30 d', dispense('2026-01-10', { value: 30, system: UCUM, code: 'd' }), '2026-02-09'],
  ['the day as written, not in UTC', dispense('2026-01-10T01:00:00+03:00', { value: 1, system: UCUM, code: 'd' }), '2026-01-11'],
  ['12 wk', dispense('2026-01-10', { value: 12, system: UCUM, code: 'wk' }), '2026-04-04'],
  ['unit name without a code', dispense('2026-01-10', { value: 2, unit: 'Days' }), '2026-01-12'],
  ['3 mo, calendar months', request('2026-01-15', { value: 3, system: UCUM, code: 'mo' }), '2026-04-15'],
  ['1 mo from 31 January (leap year)', request('2028-01-31', { value: 1, system: UCUM, code: 'mo' }), '2028-02-29'],
  ['1 a', request('2026-03-01', { value: 1, system: UCUM, code: 'a' }), '2027-03-01'],
  ['0 d', dispense('2026-01-10', { value: 0, system: UCUM, code: 'd' }), '2026-01-10'],
])('%s', (_, resource, end) => {
  expect(supplyEnd(resource)).toBe(end);
});

test.each([
  ['no supply', dispense('2026-01-10')],
  ['no start', dispense(undefined, { value: 30, system: UCUM, code: 'd' })],
  ['a unit that is no duration', dispense('2026-01-10', { value: 30, system: UCUM, code: 'mg' })],
  ['a code of another system', dispense('2026-01-10', { value: 30, system: 'http://example.org/units', code: 'd' })],
  ['half a month', request('2026-01-10', { value: 0.5, system: UCUM, code: 'mo' })],
  ['a negative supply', dispense('2026-01-10', { value: -5, system: UCUM, code: 'd' })],
  ['another resource type', { resourceType: 'MedicationStatement' } as Resource],
])('none for %s', (_, resource) => {
  expect(supplyEnd(resource)).toBeUndefined();
});
