/**
 * OST doses on both sides of the WHO minimum (DAK HIV.IND.14 / PRV.14: methadone ≥ 60 mg,
 * buprenorphine ≥ 8 mg): the seed's minimum is the indicator's, a small programme draws doses
 * below and at or above it, and HIV.IND.14 on that programme has a numerator strictly between 0
 * and its denominator, equal to a count made here from the generated prescriptions.
 */
import type { MedicationRequest } from '@medplum/fhirtypes';
import { type TestApp, startTestApp } from '../helpers/app';
import { DEFAULT_AS_OF, generateProgramme } from '../../src/seed/generate';
import { seedStore } from '../../src/seed/write';
import { OST_BELOW_MINIMUM_SHARE, OST_DOSES_MG, OST_MIN_DOSE_MG } from '../../src/seed/services';
import * as C from '../../src/seed/codes';
import { indicatorById } from '../../src/reporting/indicators';
import { BUPRENORPHINE, METHADONE } from '../../src/reporting/codes';
import type { CodeSource, Condition } from '../../src/reporting/query';
import { type Figure, evaluateIndicator } from '../../src/reporting/evaluate';

const OPTS = { clients: 400, seed: 7 };
const PERIOD = { periodStart: '2024-07-01', periodEnd: DEFAULT_AS_OF };
type Medicine = keyof typeof OST_MIN_DOSE_MG;

/** The seed's OST prescriptions: client, medicine, day and coded dose. */
const prescriptions = [...generateProgramme(OPTS)]
  .flatMap((b) => b.items)
  .filter((i) => i.resource.resourceType === 'MedicationRequest')
  .map((i) => i.resource as MedicationRequest)
  .flatMap((r) => {
    const codes = (r.medicationCodeableConcept?.coding ?? []).map((c) => `${c.system}|${c.code}`);
    const medicine: Medicine | undefined = codes.includes(`${C.OST_CODINGS[0]!.system}|methadone`) ? 'methadone' : codes.includes(`${C.OST_CODINGS[1]!.system}|buprenorphine`) ? 'buprenorphine' : undefined;
    if (!medicine) return [];
    return [{ patient: r.subject.reference!, medicine, day: r.authoredOn!.slice(0, 10), mg: r.dosageInstruction![0]!.doseAndRate![0]!.doseQuantity!.value! }];
  });
const below = (p: { medicine: Medicine; mg: number }): boolean => p.mg < OST_MIN_DOSE_MG[p.medicine];

test("the seed's minimum doses are HIV.IND.14's numerator thresholds", () => {
  // Walks the indicator's numerator for (medicine codes, ≥ mg) pairs.
  const pairs: [CodeSource, number][] = [];
  const walk = (x: Condition): void => {
    if (x.kind === 'any') x.of.forEach(walk);
    if (x.kind === 'all') {
      const code = x.of.find((y) => y.kind === 'anchor-code');
      const dose = x.of.find((y) => y.kind === 'anchor-number');
      if (code?.kind === 'anchor-code' && dose?.kind === 'anchor-number') pairs.push([code.code, dose.ge]);
    }
  };
  indicatorById('HIV.IND.14')!.population.numerator!.forEach(walk);
  const ge = (codes: unknown): number | undefined => pairs.find(([c]) => 'codes' in c && c.codes === codes)?.[1];
  expect({ methadone: ge(METHADONE), buprenorphine: ge(BUPRENORPHINE) }).toEqual(OST_MIN_DOSE_MG);
});

test('a small programme draws OST doses on both sides of the minimum, about a quarter below', () => {
  for (const medicine of ['methadone', 'buprenorphine'] as const) {
    const mine = prescriptions.filter((p) => p.medicine === medicine);
    expect(mine.length).toBeGreaterThan(5);
    expect(mine.some(below)).toBe(true);
    expect(mine.some((p) => !below(p))).toBe(true);
    for (const p of mine) expect(OST_DOSES_MG[medicine]).toContain(p.mg);
  }
  const share = prescriptions.filter(below).length / prescriptions.length;
  expect(share).toBeGreaterThan(OST_BELOW_MINIMUM_SHARE - 0.15);
  expect(share).toBeLessThan(OST_BELOW_MINIMUM_SHARE + 0.15);
});

describe('HIV.IND.14 on the seeded programme', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = startTestApp();
    await t.linkcare.ready;
    await seedStore(t.store, OPTS);
  });
  afterAll(() => t.close());

  test('the numerator is strictly between 0 and the denominator, as counted from the latest prescription in the period', async () => {
    const n = (f: Figure): number => ('count' in f ? f.count : NaN);
    const r = await evaluateIndicator(t.store.reports!(), indicatorById('HIV.IND.14')!, PERIOD, { suppress: false, threshold: 4 });
    // Oracle: each client's latest OST prescription authored in the period, at or above the minimum.
    const latest = new Map<string, (typeof prescriptions)[number]>();
    for (const p of prescriptions) {
      if (p.day < PERIOD.periodStart || p.day > PERIOD.periodEnd) continue;
      if (!latest.has(p.patient) || latest.get(p.patient)!.day < p.day) latest.set(p.patient, p);
    }
    const want = [latest.size, [...latest.values()].filter((p) => !below(p)).length];
    expect([n(r.total.population), n(r.total.numerator)]).toEqual(want);
    expect(want[1]).toBeGreaterThan(0);
    expect(want[1]).toBeLessThan(want[0]!);
  });
});
