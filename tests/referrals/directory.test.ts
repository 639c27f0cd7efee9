/**
 * The service directory: HealthcareServices (fixtures/referrals/directory.json) searched by
 * service type, organisation, location, characteristic and opening time (available-at, and
 * "open now" as the current half-hour slot).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, HealthcareService } from '@medplum/fhirtypes';
import { type TestApp, startTestApp } from '../helpers/app';
import { REFERRAL_SERVICE_SYSTEM } from '../../src/referrals/task';
import { rewriteOpenNow, slotOf } from '../../src/referrals/directory';
import { COMMUNITY, created } from './helpers';

const FIXTURE = JSON.parse(readFileSync(join(__dirname, '../../fixtures/referrals/directory.json'), 'utf8')) as { services: HealthcareService[] };
const CHAR = 'https://linkcare.example.org/fhir/CodeSystem/service-characteristic';

let t: TestApp;
/** Fixture id → server id. */
const idOf = new Map<string, string>();

beforeAll(async () => {
  t = startTestApp();
  for (const s of FIXTURE.services) {
    const { id, ...body } = s;
    idOf.set(id!, (await created<{ id: string }>(t.as(['admin']), body as HealthcareService)).id);
  }
});
afterAll(() => t.close());

/** Fixture ids of the services a search finds, as an outreach worker of a community organisation. */
async function find(query: string): Promise<string[]> {
  const res = await t.as(['outreach'], COMMUNITY).get(`/fhir/HealthcareService?${query}`).set('Prefer', 'handling=strict');
  expect(res.status).toBe(200);
  const back = new Map([...idOf].map(([k, v]) => [v, k]));
  return ((res.body as Bundle).entry ?? []).map((e) => back.get(e.resource!.id!)!).sort();
}

test('by service type from the referral list', async () => {
  expect(await find(`service-type=${encodeURIComponent(`${REFERRAL_SERVICE_SYSTEM}|pep`)}`)).toEqual(['crisis-line', 'drop-in-clinic']);
  expect(await find('service-type=legal-aid')).toEqual(['legal-clinic']);
});

test('by organisation and by location', async () => {
  expect(await find('organization=Organization/crisis-org')).toEqual(['crisis-line']);
  expect(await find('location=Location/clinic-central')).toEqual(['drop-in-clinic', 'legal-clinic']);
});

test('by characteristic: walk-in, free of charge, key-population friendly, language', async () => {
  expect(await find(`characteristic=${encodeURIComponent(`${CHAR}|walk-in`)}`)).toEqual(['drop-in-clinic', 'legal-clinic']);
  expect(await find(`characteristic=free-of-charge&characteristic=key-population-friendly`)).toEqual(['crisis-line', 'drop-in-clinic']);
  expect(await find(`characteristic=${encodeURIComponent('urn:ietf:bcp:47|pt')}`)).toEqual(['drop-in-clinic']);
});

test.each([
  ['tue-1030', ['crisis-line', 'drop-in-clinic', 'legal-clinic']],
  // The legal desk closes for lunch 12:00–14:00.
  ['tue-1230', ['crisis-line', 'drop-in-clinic']],
  // The legal desk closes at 16:30 (end exclusive); the clinic at 17:00.
  ['tue-1630', ['crisis-line', 'drop-in-clinic']],
  ['tue-1700', ['crisis-line']],
  ['sat-1000', ['crisis-line']],
])('open at %s', async (slot, expected) => {
  expect(await find(`available-at=${slot}`)).toEqual(expected);
});

test('combined: PEP open on a Saturday morning', async () => {
  expect(await find('service-type=pep&available-at=sat-1000')).toEqual(['crisis-line']);
});

test('open now: the query rewritten to the current slot finds what is open at that time', async () => {
  // Tuesday 2025-03-04 12:47 UTC: the lunch break of the legal desk.
  const now = new Date('2025-03-04T12:47:00Z');
  expect(slotOf(now)).toBe('tue-1230');
  const query = rewriteOpenNow([['service-type', 'legal-aid'], ['open-now', 'true']], now).map(([k, v]) => `${k}=${v}`).join('&');
  expect(await find(query)).toEqual([]);
  const later = rewriteOpenNow([['open-now', 'true']], new Date('2025-03-04T14:05:00Z')).map(([k, v]) => `${k}=${v}`).join('&');
  expect(await find(later)).toEqual(['crisis-line', 'drop-in-clinic', 'legal-clinic']);
});

test('open-now=true over HTTP finds what is open in the current half-hour slot (always-open services included)', async () => {
  const before = slotOf(new Date());
  const open = await find('open-now=true');
  const after = slotOf(new Date());
  // A slot boundary may pass during the request: either slot's answer is right.
  const expected = [await find(`available-at=${before}`), await find(`available-at=${after}`)];
  expect(expected).toContainEqual(open);
  expect(open).toContain('crisis-line');
});
