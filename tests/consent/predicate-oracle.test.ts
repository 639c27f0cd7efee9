/**
 * The consent search predicate and the per-resource decision must agree: for random consents and
 * resources, what a search shows organisation B equals what reading each resource would show.
 */
import type { Consent, ConsentProvision, Resource } from '@medplum/fhirtypes';
import { type TestApp, startTestApp } from '../helpers/app';
import { accessTo, requestVisibility } from '../../src/policy/access';
import type { Principal } from '../../src/auth/principal';
import { withSensitivityLabels } from '../../src/consent/labels';
import { Rng } from '../../src/seed/prng';

const IRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] };
const LABELS = ['HIV', 'STD', 'PSY', 'SDV', 'ETH'];
const TYPES = ['Observation', 'Condition', 'Immunization'] as const;
const ORGS = ['org-a', 'org-b', 'org-c'];

/** Seeded mulberry32 stream (src/seed/prng.ts), so runs reproduce. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

let t: TestApp;
beforeAll(() => {
  t = startTestApp();
});
afterAll(() => t.close());

test.each([20261128, 7, 42, 1999])('search visibility equals per-resource consent decisions over 40 random clients (seed %i)', async (seed) => {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const randomProvision = (depth: number): ConsentProvision => {
    const p: ConsentProvision = { type: r() < 0.6 ? 'permit' : 'deny' };
    if (r() < 0.6) p.actor = [{ role: IRCP, reference: { reference: `Organization/${pick(ORGS)}` } }];
    if (r() < 0.3) p.class = [{ system: 'http://hl7.org/fhir/resource-types', code: pick(TYPES) }];
    if (r() < 0.4) p.securityLabel = [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: pick(LABELS) }];
    if (depth < 2 && r() < 0.5) p.provision = [randomProvision(depth + 1), ...(r() < 0.3 ? [randomProvision(depth + 1)] : [])];
    return p;
  };
  const all: { type: string; id: string }[] = [];
  const mine = (id: string) => id.startsWith(`p${seed}-`);
  await t.store.unitOfWork(async (tx) => {
    for (let i = 0; i < 40; i++) {
      const patient = `p${seed}-${i}`;
      const holder = pick(['org-a', 'org-c']);
      await tx.put({ resourceType: 'Patient', id: patient }, { custodian: holder, patient });
      await tx.enrol(patient, holder);
      all.push({ type: 'Patient', id: patient });
      for (let k = 0; k < 1 + Math.floor(r() * 3); k++) {
        const consent: Consent & { id: string } = {
          resourceType: 'Consent', id: `c${seed}-${i}-${k}`, status: r() < 0.85 ? 'active' : 'inactive',
          scope: { coding: [{ code: 'patient-privacy' }] }, category: [{ text: 'privacy' }],
          patient: { reference: `Patient/${patient}` }, provision: randomProvision(0),
          ...(r() < 0.2 ? { organization: [{ reference: `Organization/${pick(['org-a', 'org-c'])}` }] } : {}),
        };
        await tx.put(consent, { custodian: holder, patient });
        // Written past the rules, so raise the consent counter as the consent write rule would.
        await tx.touch('consent');
      }
      for (let k = 0; k < 4; k++) {
        const type = pick(TYPES);
        const labels = LABELS.filter(() => r() < 0.25);
        const base = { resourceType: type, id: `${patient}-${k}`, ...(labels.length ? { meta: { security: labels.map((code) => ({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code })) } } : {}) };
        const body = type === 'Observation' ? { ...base, status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${patient}` } }
          : type === 'Condition' ? { ...base, subject: { reference: `Patient/${patient}` } }
          : { ...base, status: 'completed', vaccineCode: { text: 'x' }, patient: { reference: `Patient/${patient}` }, occurrenceDateTime: '2026-01-01' };
        await tx.put(withSensitivityLabels(body as Resource & { id: string }) as Resource & { id: string }, { custodian: r() < 0.8 ? holder : 'org-c', patient });
        all.push({ type, id: body.id });
      }
    }
  });
  let agreed = 0;
  for (const org of ORGS) {
    const principal: Principal = { sub: 'u', org, roles: ['clinician'] };
    const vis = await requestVisibility(principal, t.store);
    for (const type of ['Patient', ...TYPES]) {
      const found = await t.store.search({ types: [type], where: [], sort: [], count: 1000, total: 'none', visibility: vis.predicates });
      const bySearch = found.matches.map((m) => m.id).filter(mine).sort();
      const byRead: string[] = [];
      for (const x of all.filter((a) => a.type === type)) {
        const v = (await t.store.read(type, x.id))!;
        if ((await accessTo(principal, v, t.store)).visible) byRead.push(x.id);
      }
      expect({ org, type, ids: bySearch }).toEqual({ org, type, ids: byRead.sort() });
      agreed += byRead.length;
    }
  }
  // The random programme must actually share something, or the test proves nothing.
  expect(agreed).toBeGreaterThan(40);
});
