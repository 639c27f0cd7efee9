/**
 * WHO standard HIV testing strategy for people ≥ 18 months (DAK HIV.B7.DT, from Consolidated
 * Guidelines on HIV Testing Services 2019, fig. 8.3). The eight rows are data; the function only
 * walks them from Assay 1, so a sequence the strategy never produces finds no row.
 */
import { addDays, formatDate, parseDate } from './dates';
import { type Decision, impossible, malformed, ok } from './result';

export type AssayStep = 'A1' | 'A2' | 'A3' | 'A1-repeat';
export type AssayResult = 'reactive' | 'non-reactive';
export type HivConclusion = 'HIV-positive' | 'HIV-negative' | 'HIV-inconclusive';

export interface Assay {
  step: AssayStep;
  result: AssayResult;
  /** DAK "HIV test type": the rows hold for RDT and EIA alike, so it never changes the outcome. */
  testType?: 'rdt' | 'eia';
}

export interface TestingStrategyInput {
  assays: Assay[];
  /** FHIR date of the visit; the retest is scheduled from it. */
  visitDate: string;
}

export type TestingStrategyOutcome =
  | { nextStep: Exclude<AssayStep, 'A1'>; rule: string }
  | { conclusion: HivConclusion; retestDate?: string; rule: string };

interface StrategyRow {
  id: string;
  /** The results this row reads, exactly: no more, no fewer. */
  when: Partial<Record<AssayStep, AssayResult>>;
  then: { nextStep: Exclude<AssayStep, 'A1'> } | { conclusion: HivConclusion; retestInDays?: number };
}

const R: AssayResult = 'reactive';
const N: AssayResult = 'non-reactive';

/** DAK HIV.B7.DT, hit policy First; row ids as in the DAK. */
export const HIV_B7_ROWS: readonly StrategyRow[] = [
  { id: 'HIV.B7.DT.01', when: { A1: N }, then: { conclusion: 'HIV-negative' } },
  { id: 'HIV.B7.DT.02', when: { A1: R }, then: { nextStep: 'A2' } },
  { id: 'HIV.B7.DT.03', when: { A1: R, A2: N }, then: { nextStep: 'A1-repeat' } },
  { id: 'HIV.B7.DT.04', when: { A1: R, A2: R }, then: { nextStep: 'A3' } },
  { id: 'HIV.B7.DT.05', when: { A1: R, A2: N, 'A1-repeat': N }, then: { conclusion: 'HIV-negative' } },
  // Inconclusive results are retested on visit date + 14 days (HIV.B7.DT.06 and .07 actions).
  { id: 'HIV.B7.DT.06', when: { A1: R, A2: N, 'A1-repeat': R }, then: { conclusion: 'HIV-inconclusive', retestInDays: 14 } },
  { id: 'HIV.B7.DT.07', when: { A1: R, A2: R, A3: N }, then: { conclusion: 'HIV-inconclusive', retestInDays: 14 } },
  { id: 'HIV.B7.DT.08', when: { A1: R, A2: R, A3: R }, then: { conclusion: 'HIV-positive' } },
];

type Results = Partial<Record<AssayStep, AssayResult>>;

function sameResults(a: Results, b: Results): boolean {
  const keys = Object.keys(a) as AssayStep[];
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function describe(results: Results): string {
  return Object.entries(results)
    .map(([step, result]) => `${step} ${result}`)
    .join(', ');
}

/** Next step or conclusion of the WHO testing strategy (DAK HIV.B7.DT, https://smart.who.int/hiv/). */
export function hivTestingStrategy(input: TestingStrategyInput): Decision<TestingStrategyOutcome> {
  const visit = parseDate(input.visitDate);
  if (visit === undefined) return malformed('visitDate', `visitDate "${input.visitDate}" is not a calendar date`);
  const given: Results = {};
  for (const a of input.assays) {
    if (given[a.step] !== undefined) return impossible('assay', `Assay step ${a.step} is given more than once; each step of the strategy is performed once`);
    given[a.step] = a.result;
  }
  if (given.A1 === undefined) return impossible('assay', 'The strategy starts with A1: every other assay follows a reactive A1 (HIV.B7.DT.02)');

  // Walk from A1 as a tester would: each row names the one assay that may come next.
  let seen: Results = { A1: given.A1 };
  let row = HIV_B7_ROWS.find((r) => sameResults(r.when, seen))!;
  while ('nextStep' in row.then && given[row.then.nextStep] !== undefined) {
    seen = { ...seen, [row.then.nextStep]: given[row.then.nextStep] };
    row = HIV_B7_ROWS.find((r) => sameResults(r.when, seen))!;
  }
  const extra = (Object.keys(given) as AssayStep[]).filter((s) => seen[s] === undefined);
  if (extra.length) {
    const after = 'nextStep' in row.then ? `the next assay is ${row.then.nextStep}` : `the strategy concludes ${row.then.conclusion}`;
    return impossible('assay', `The strategy never performs ${extra.join(' and ')} after ${describe(seen)}: ${after} (${row.id})`);
  }

  if ('nextStep' in row.then) return ok({ nextStep: row.then.nextStep, rule: row.id });
  const { conclusion, retestInDays } = row.then;
  return ok({
    conclusion,
    ...(retestInDays !== undefined ? { retestDate: formatDate(addDays(visit, retestInDays)) } : {}),
    rule: row.id,
  });
}
