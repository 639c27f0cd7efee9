/**
 * Patient/$care-gaps on a small deterministic seeded programme: clients picked by what the
 * generator knows about them, their gaps asserted from those facts; access control (404 for an
 * invisible client, 403 for reporting, only visible resources count); input errors. And linkage:
 * the server's HIV care episode over HTTP, found by the plain worklist search.
 */
import type { Bundle, EpisodeOfCare, Parameters } from '@medplum/fhirtypes';
import { type TestApp, startTestApp } from '../helpers/app';
import { seedStore, type SeedReport } from '../../src/seed/write';
import type { ClientFacts } from '../../src/seed/generate';
import { addMonths, formatDate, parseDate } from '../../src/services/decisions/dates';
import * as C from '../../src/seed/codes';

const AS_OF = '2025-06-30';
let t: TestApp;
let seeded: SeedReport;

beforeAll(async () => {
  t = startTestApp();
  seeded = await seedStore(t.store, { clients: 600, seed: 3, asOf: AS_OF }, { keepFacts: true });
}, 60_000);
afterAll(() => t.close());

interface GapOut { code: string; dueDate: string; overdueDate?: string; rule: string; status: string; focus?: string }

async function gaps(patient: string, org: string, roles: ('clinician' | 'outreach' | 'reporting')[] = ['clinician']): Promise<GapOut[]> {
  const res = await t.as(roles, org).get(`/fhir/Patient/${patient}/$care-gaps?asOf=${AS_OF}`);
  expect(res.status).toBe(200);
  return ((res.body as Parameters).parameter ?? []).map((p) => {
    const part = (n: string) => p.part!.find((x) => x.name === n);
    return { code: part('code')!.valueCode!, dueDate: part('dueDate')!.valueDate!, overdueDate: part('overdueDate')?.valueDate, rule: part('rule')!.valueString!, status: part('status')!.valueCode!, focus: part('focus')?.valueReference?.reference };
  });
}

const find = (pred: (f: ClientFacts) => boolean): ClientFacts => {
  const f = seeded.facts.find(pred);
  if (!f) throw new Error('no seeded client fits; change the seed');
  return f;
};
const months = (d: string, n: number): string => formatDate(addMonths(parseDate(d)!, n));

test('the programme is written: ~15 resources a client', () => {
  expect(seeded.clients).toBe(600);
  expect(seeded.resources / seeded.clients).toBeGreaterThan(8);
});

test('diagnosed without ART: art-start gap from the diagnosis date (SWIT 5.3), overdue 7 days later; retest before ART offered (HIV.S.4.05)', async () => {
  const f = find((x) => !!x.diagnosis && !x.artStart && x.diagnosis.date < '2025-05-01');
  const g = await gaps(f.patient, f.diagnosis!.org);
  const overdueDate = formatDate(parseDate(f.diagnosis!.date)! + 7 * 86_400_000);
  expect(g).toContainEqual(expect.objectContaining({ code: 'art-start', dueDate: f.diagnosis!.date, overdueDate, rule: 'SWIT5.3', status: 'overdue' }));
  expect(g).toContainEqual(expect.objectContaining({ code: 'hiv-retest-before-art', dueDate: f.diagnosis!.date, rule: 'HIV.S.4.05', status: 'due' }));
  expect(g.map((x) => x.code)).not.toContain('hiv-retest');
});

// HIV.S.2 row by row, with its copies/mL boundaries: tests/services/care-gaps-schedule.test.ts.

test('HIV-negative key population client: yearly retest from the last negative (HIV.B9.DT.03)', async () => {
  const f = find((x) => x.home === x.clinic && !x.diagnosis && !x.prep && !x.pendingA1 && x.conclusions.length > 0 && x.conclusions.at(-1)!.result === 'negative' && months(x.conclusions.at(-1)!.date, 12) <= AS_OF);
  expect(await gaps(f.patient, f.clinic)).toContainEqual(expect.objectContaining({ code: 'hiv-retest', dueDate: months(f.conclusions.at(-1)!.date, 12), rule: 'HIV.B9.DT.03' }));
});

test('PrEP user: refill when the supply runs out', async () => {
  const f = find((x) => !!x.prep?.active && !x.diagnosis);
  const due = formatDate(parseDate(f.prep!.lastDate)! + f.prep!.supplyDays * 86_400_000);
  const g = await gaps(f.patient, f.clinic);
  if (due <= AS_OF) expect(g).toContainEqual(expect.objectContaining({ code: 'prep-refill', dueDate: due, rule: 'SWIT5.2' }));
  else expect(g.map((x) => x.code)).not.toContain('prep-refill');
});

test('reactive A1 in outreach, referral open: strategy incomplete (HIV.B7.DT.02) and an urgent referral, at the community organisation', async () => {
  const f = find((x) => !!x.pendingA1 && x.pendingA1.org !== x.clinic);
  const g = await gaps(f.patient, f.pendingA1!.org);
  expect(g).toContainEqual(expect.objectContaining({ code: 'hiv-testing-incomplete', dueDate: f.pendingA1!.date, rule: 'HIV.B7.DT.02' }));
  expect(g).toContainEqual(expect.objectContaining({ code: 'urgent-referral', rule: 'SWIT5.3', focus: expect.stringMatching(/^Task\//) }));
});

test('only what the caller may see counts; an invisible client is 404; reporting is 403', async () => {
  const f = find((x) => !!x.diagnosis && !x.artStart && x.home !== x.clinic);
  // The community organisation holds no diagnosis: no ART gap from the clinic's record.
  expect((await gaps(f.patient, f.home)).map((x) => x.code)).not.toContain('art-start');
  // Outreach workers cannot read clinical data at all: the clinic's diagnosis does not count for them either.
  expect((await gaps(f.patient, f.clinic, ['outreach'])).map((x) => x.code)).not.toContain('art-start');
  const other = ['clinic-1', 'clinic-2', 'clinic-3'].find((o) => o !== f.clinic)!;
  const hidden = await t.as(['clinician'], other).get(`/fhir/Patient/${f.patient}/$care-gaps`);
  expect(hidden.status).toBe(404);
  expect((await t.as(['clinician'], f.clinic).get('/fhir/Patient/no-such-client/$care-gaps')).status).toBe(404);
  expect((await t.as(['reporting'], f.clinic).get(`/fhir/Patient/${f.patient}/$care-gaps`)).status).toBe(403);
});

test('asOf must be a date: 400 naming the parameter', async () => {
  const f = seeded.facts[0]!;
  for (const bad of ['2025-02-30', 'yesterday']) {
    const res = await t.as(['clinician'], f.home).get(`/fhir/Patient/${f.patient}/$care-gaps?asOf=${bad}`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('asOf');
  }
});

test('linkage worklist: seeded episodes are found by plain search, waitlist = diagnosed not on ART', async () => {
  const f = find((x) => !!x.diagnosis && !x.artStart);
  const res = await t.as(['clinician'], f.diagnosis!.org).get(`/fhir/EpisodeOfCare?type=${encodeURIComponent(`${C.EPISODE_SYSTEM}|hiv-care`)}&status=waitlist&_count=200`);
  expect(res.status).toBe(200);
  const ids = ((res.body as Bundle).entry ?? []).map((e) => (e.resource as EpisodeOfCare).patient.reference);
  expect(ids).toContain(`Patient/${f.patient}`);
  const linked = find((x) => !!x.artStart && x.diagnosis!.org === f.diagnosis!.org);
  expect(ids).not.toContain(`Patient/${linked.patient}`);
});

test('linkage over HTTP: the server keeps the HIV care episode and its days to ART', async () => {
  const as = t.as(['clinician'], 'clinic-9');
  const p = await as.post('/fhir/Patient').send({ resourceType: 'Patient', gender: 'female', birthDate: '1990' });
  expect(p.status).toBe(201);
  const patient = p.body.id as string;
  const subject = { reference: `Patient/${patient}` };
  const conclusion = await as.post('/fhir/Observation').send({
    resourceType: 'Observation', status: 'final', code: { coding: [C.HIV_CONCLUSION] }, subject, effectiveDateTime: '2025-03-01T10:00:00Z',
    valueCodeableConcept: { coding: [...C.CONCLUSION_CODINGS.positive] }, derivedFrom: [{ reference: 'Observation/unknown-assay' }],
  });
  expect([201]).toContain(conclusion.status);
  const search = `/fhir/EpisodeOfCare?patient=Patient/${patient}`;
  let ep = ((await as.get(search)).body as Bundle).entry?.map((e) => e.resource as EpisodeOfCare) ?? [];
  expect(ep).toHaveLength(1);
  expect(ep[0]).toMatchObject({ status: 'waitlist', period: { start: '2025-03-01' } });
  const art = await as.post('/fhir/MedicationRequest').send({
    resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject, authoredOn: '2025-03-06T09:00:00Z',
    medicationCodeableConcept: { coding: [...C.REGIMENS['art-tld']] },
  });
  expect(art.status).toBe(201);
  ep = ((await as.get(search)).body as Bundle).entry?.map((e) => e.resource as EpisodeOfCare) ?? [];
  expect(ep[0]!.status).toBe('active');
  expect(ep[0]!.extension).toContainEqual({ url: C.EXT_DAYS_TO_ART, valueInteger: 5 });
  // Another organisation sees neither the episode nor the client.
  expect(((await t.as(['clinician'], 'clinic-8').get(search)).body as Bundle).entry).toBeUndefined();
});

test('a "positive" after a single reactive A1 puts nobody on the ART waitlist: no episode, no art-start, the next assay instead (HIV.B7.DT.02)', async () => {
  const as = t.as(['clinician'], 'clinic-9');
  const p = await as.post('/fhir/Patient').send({ resourceType: 'Patient', gender: 'female', birthDate: '1992' });
  const patient = p.body.id as string;
  const subject = { reference: `Patient/${patient}` };
  const a1 = await as.post('/fhir/Observation').send({
    resourceType: 'Observation', status: 'final', code: { coding: [C.HIV_RDT] }, subject, effectiveDateTime: '2025-06-10T10:00:00Z',
    valueCodeableConcept: { coding: [C.REACTIVE] }, component: [{ code: { coding: [C.ASSAY_NUMBER] }, valueCodeableConcept: { coding: [C.ASSAY_NUMBERS.A1] } }],
  });
  expect(a1.status).toBe(201);
  // No profile claimed: stored as sent, but read for what its assays say.
  const conclusion = await as.post('/fhir/Observation').send({
    resourceType: 'Observation', status: 'final', code: { coding: [C.HIV_CONCLUSION] }, subject, effectiveDateTime: '2025-06-10T10:05:00Z',
    valueCodeableConcept: { coding: [...C.CONCLUSION_CODINGS.positive] }, derivedFrom: [{ reference: `Observation/${a1.body.id as string}` }],
  });
  expect(conclusion.status).toBe(201);
  expect(((await as.get(`/fhir/EpisodeOfCare?patient=Patient/${patient}`)).body as Bundle).entry).toBeUndefined();
  const res = await as.get(`/fhir/Patient/${patient}/$care-gaps?asOf=2025-06-30`);
  const g = ((res.body as Parameters).parameter ?? []).map((x) => Object.fromEntries(x.part!.map((y) => [y.name, y.valueCode ?? y.valueString ?? y.valueDate])));
  expect(g.map((x) => x.code)).not.toContain('art-start');
  expect(g).toContainEqual(expect.objectContaining({ code: 'hiv-testing-incomplete', dueDate: '2025-06-10', rule: 'HIV.B7.DT.02' }));
});
