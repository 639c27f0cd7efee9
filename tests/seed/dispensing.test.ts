/**
 * What the generator dispenses and doses: ARV pick-ups (MedicationDispense) that follow each other
 * within the modelled gaps, with the multi-month intervals, stops and returns the facts report
 * (TX_CURR's 28-day rule, DAK HIV.IND.27), and OST prescriptions with a coded mg dose equal to
 * their text (HIV.IND.14). Resources are checked against the server's validator.
 */
import type { MedicationDispense, MedicationRequest } from '@medplum/fhirtypes';
import { DEFAULT_AS_OF, generateProgramme } from '../../src/seed/generate';
import { AWAY_DAYS, EARLY_DAYS, LATE_DAYS, MMD_MIX, START_DAYS } from '../../src/seed/art-pickups';
import { createResourceValidator } from '../../src/fhir/validation/validator';
import { profileIssues } from '../../src/profiles/rule';
import * as C from '../../src/seed/codes';

const batches = [...generateProgramme({ clients: 1500, seed: 11 })];
const items = batches.flatMap((b) => b.items);
const facts = batches.flatMap((b) => b.facts);
const art = facts.filter((f) => f.art);
const asOf = Date.parse(`${DEFAULT_AS_OF}T00:00:00Z`);
const dayOf = (dateTime: string): number => Date.parse(dateTime.slice(0, 10));
const daysBetween = (a: string, b: string): number => (dayOf(b) - dayOf(a)) / 86_400_000;
const codes = (concept: { coding?: { system?: string; code?: string }[] } | undefined): string[] => (concept?.coding ?? []).map((c) => `${c.system}|${c.code}`);

const dispenses = items.filter((i) => i.resource.resourceType === 'MedicationDispense').map((i) => ({ ...i, resource: i.resource as MedicationDispense & { id: string } }));
const requests = new Map(items.filter((i) => i.resource.resourceType === 'MedicationRequest').map((i) => [i.resource.id, i.resource as MedicationRequest & { id: string }]));

test('every ART client picks up ARVs, recorded as the facts say, from ART start to the reference date', () => {
  expect(art.length).toBeGreaterThan(50);
  const byPatient = new Map<string, (MedicationDispense & { id: string })[]>();
  for (const d of dispenses) byPatient.set(d.patient!, [...(byPatient.get(d.patient!) ?? []), d.resource]);
  expect([...byPatient.keys()].sort()).toEqual(art.map((f) => f.patient).sort());
  for (const f of art) {
    const mine = byPatient.get(f.patient)!;
    expect(mine.map((d) => ({ date: d.whenHandedOver!.slice(0, 10), days: d.daysSupply!.value }))).toEqual(f.art!.pickups);
    expect(f.art!.pickups[0]!.date).toBe(f.artStart);
    for (const d of mine) {
      expect(dayOf(d.whenHandedOver!)).toBeLessThanOrEqual(asOf);
      const rx = requests.get(d.authorizingPrescription![0]!.reference!.split('/')[1]!)!;
      expect(rx.subject.reference).toBe(`Patient/${f.patient}`);
      expect(rx.authoredOn!.slice(0, 10)).toBe(f.artStart);
      expect(d.medicationCodeableConcept).toEqual(rx.medicationCodeableConcept);
    }
  }
});

test('an ARV dispense has the shape TX_CURR reads and passes the server validator', () => {
  const validator = createResourceValidator();
  const art = C.REGIMENS['art-tld'].map((c) => `${c.system}|${c.code}`);
  for (const { resource: d, custodian } of dispenses) {
    expect(d.status).toBe('completed');
    expect(codes(d.medicationCodeableConcept)).toEqual(art);
    expect(d.daysSupply).toEqual({ value: d.daysSupply!.value, unit: 'days', system: C.UCUM, code: 'd' });
    expect(d.quantity).toEqual({ value: d.daysSupply!.value, unit: 'tablets', system: C.UCUM, code: '{tbl}' });
    expect(d.performer).toEqual([{ actor: { reference: `Organization/${custodian}` } }]);
    expect(d.meta?.profile).toBeUndefined(); // no project profile claimed: ost-dispense does not apply
  }
  for (const { resource } of dispenses.slice(0, 200)) expect(validator.validate(resource)).toEqual([]);
});

test('no project profile catches an ARV dispense (profiles apply by claim only)', async () => {
  expect(await profileIssues(dispenses[0]!.resource)).toEqual([]);
});

test('pick-ups follow each other within the modelled gaps; a returning client has one long gap, then a month', () => {
  const intervals = new Set<number>();
  for (const f of art) {
    const { pickups, intervalDays, pattern } = f.art!;
    intervals.add(intervalDays);
    expect(pickups[0]!.days).toBe(START_DAYS);
    let long = 0;
    for (let i = 1; i < pickups.length; i++) {
      const late = daysBetween(pickups[i - 1]!.date, pickups[i]!.date) - pickups[i - 1]!.days;
      const away = late > LATE_DAYS;
      if (away) {
        long++;
        expect(late).toBeGreaterThanOrEqual(AWAY_DAYS[0] - EARLY_DAYS);
        expect(late).toBeLessThanOrEqual(AWAY_DAYS[1] + LATE_DAYS);
      } else expect(late).toBeGreaterThanOrEqual(-EARLY_DAYS);
      expect(pickups[i]!.days).toBe(away ? START_DAYS : intervalDays);
    }
    expect(long).toBe(pattern === 'returned' ? 1 : 0);
  }
  expect([...intervals].sort((a, b) => a - b)).toEqual(MMD_MIX.map(([days]) => days));
});

test('some clients stop picking up (no exit recorded) and TX_CURR’s 28-day rule is what drops them', () => {
  const supplyEnd = (f: (typeof art)[number]): number => {
    const last = f.art!.pickups.at(-1)!;
    return dayOf(last.date) + last.days * 86_400_000;
  };
  const onArt = (f: (typeof art)[number]): boolean => supplyEnd(f) + 28 * 86_400_000 >= asOf;
  const stopped = art.filter((f) => f.art!.pattern === 'stopped');
  const returned = art.filter((f) => f.art!.pattern === 'returned');
  expect(stopped.length).toBeGreaterThan(0);
  expect(stopped.length / art.length).toBeLessThan(0.25);
  expect(returned.length).toBeGreaterThan(0);
  expect(returned.length).toBeLessThan(stopped.length);
  // Clients who keep coming are all on ART at the reference date; most who stopped are not.
  for (const f of art.filter((x) => x.art!.pattern !== 'stopped')) expect(onArt(f)).toBe(true);
  expect(stopped.filter((f) => !onArt(f)).length).toBeGreaterThan(stopped.length / 2);
  // No viral load after a stopped client's last supply ran out.
  for (const f of stopped) for (const v of f.viralLoads) expect(Date.parse(v.date)).toBeLessThanOrEqual(supplyEnd(f));
});

test('OST prescriptions carry the daily dose coded in mg, equal to the number in their text', () => {
  const validator = createResourceValidator();
  const ost = new Set(C.OST_CODINGS.map((c) => `${c.system}|${c.code}`));
  const prescriptions = [...requests.values()].filter((r) => codes(r.medicationCodeableConcept).some((c) => ost.has(c)));
  expect(prescriptions.length).toBeGreaterThan(10);
  for (const r of prescriptions) {
    const dosage = r.dosageInstruction![0]!;
    const mg = Number(/^(?:Methadone|Buprenorphine) (\d+) mg daily$/.exec(dosage.text!)![1]);
    expect(dosage.doseAndRate![0]!.doseQuantity).toEqual({ value: mg, unit: 'mg', system: C.UCUM, code: 'mg' });
    expect(dosage.timing).toEqual({ repeat: { frequency: 1, period: 1, periodUnit: 'd' } });
    expect(validator.validate(r)).toEqual([]);
  }
});
