/**
 * Whether a recorded HIV conclusion (DAK HIV.B.DE111) is what the WHO testing strategy (DAK
 * HIV.B7.DT) makes of the assays recorded with it. A conclusion is not a free-standing claim: the
 * DAK reports HIV-positive only after A1+, A2+ and A3+ (HIV.B7.DT.08), so a "positive" after a
 * single reactive A1 is an unfinished strategy, not a diagnosis. Used by the care gaps (to follow
 * the assays, not the label), by the write rule of the hiv-test-conclusion profile (to refuse a
 * conclusion its assays contradict) and by the HIV care episode. Pure, except `assaysSeen` (and
 * `assaysBehind` over it), which read the store.
 */
import type { Observation } from '@medplum/fhirtypes';
import type { Principal } from '../auth/principal';
import { accessTo } from '../policy/access';
import type { StoreReader, StoredVersion } from '../store/port';
import * as C from '../seed/codes';
import { type Assay, type AssayStep, type HivConclusion, hivTestingStrategy } from './decisions/hiv-testing-strategy';
import { parseDate } from './decisions/dates';

export type ConclusionResult = 'positive' | 'negative' | 'inconclusive';

/** What the assays on record say, when that is not the recorded conclusion. */
export type StrategySays =
  /** The strategy is unfinished: the next assay and the HIV.B7.DT row that asks for it. */
  | { kind: 'next'; nextStep: Exclude<AssayStep, 'A1'>; rule: string }
  /** The strategy concluded something else (row .01, .05–.08). */
  | { kind: 'conclusion'; result: ConclusionResult; rule: string; retestDate?: string }
  /** A sequence the strategy never produces (e.g. A3 without A2): no row applies, so it starts again from A1. */
  | { kind: 'off-strategy'; rule: 'HIV.B7.DT'; reason: string };

export type Support =
  /** `rule` is the HIV.B7.DT row reached, or 'HIV.B7.DT' when no assay is on record to check. */
  | { supported: true; rule: string; retestDate?: string }
  | { supported: false; says: StrategySays; message: string };

export type Coded = { coding?: { system?: string; code?: string }[] } | undefined;
/** Whether a CodeableConcept carries the coding (system and code). */
export const has = (cc: Coded, c: { system?: string; code?: string }): boolean => !!cc?.coding?.some((x) => x.system === c.system && x.code === c.code);
/** The concept carries one of the codings. */
export const hasAny = (cc: Coded, list: readonly { system?: string; code?: string }[]): boolean => list.some((c) => has(cc, c));
const STEP_OF = new Map(Object.entries(C.ASSAY_NUMBERS).map(([step, c]) => [c.code, step as AssayStep]));
const RESULT_OF: Record<HivConclusion, ConclusionResult> = { 'HIV-positive': 'positive', 'HIV-negative': 'negative', 'HIV-inconclusive': 'inconclusive' };

/** Conclusion value: DAK HIV.B.DE112–114 or the SNOMED code beside it. */
export function conclusionOf(o: Observation): ConclusionResult | undefined {
  for (const r of ['positive', 'negative', 'inconclusive'] as const) if (C.CONCLUSION_CODINGS[r].some((c) => has(o.valueCodeableConcept, c))) return r;
  return undefined;
}

/**
 * One assay of the strategy: its assay number (HIV.B.DE88) and a reactive or non-reactive result.
 * An invalid (or indeterminate) run is no result at all: the kit is run again, so it never counts
 * as non-reactive (which would read as HIV.B7.DT.01, HIV-negative).
 */
export function assayOf(o: Observation): Assay | undefined {
  const number = o.component?.find((x) => has(x.code, C.ASSAY_NUMBER));
  const code = number?.valueCodeableConcept?.coding?.find((x) => x.system === C.DAK)?.code;
  const step = STEP_OF.get(code ?? '');
  if (!step) return undefined;
  if (has(o.valueCodeableConcept, C.REACTIVE)) return { step, result: 'reactive' };
  if (has(o.valueCodeableConcept, C.NON_REACTIVE)) return { step, result: 'non-reactive' };
  return undefined;
}

/** Ids of the Observations a conclusion is derived from (derivedFrom, hasMember). */
export function memberIds(o: Observation): string[] {
  return [...(o.derivedFrom ?? []), ...(o.hasMember ?? [])]
    .map((m) => /^Observation\/([^/]+)$/.exec(m.reference ?? '')?.[1])
    .filter((id): id is string => !!id);
}

/** Records that were a mistake or withdrawn: no assay, no conclusion. */
export const VOID_STATUSES: ReadonlySet<string> = new Set(['entered-in-error', 'cancelled']);

/** The assays behind a conclusion as one viewer sees them, and the consents that opened any held elsewhere. */
export interface AssaysSeen {
  assays: Assay[];
  /** Ids of the Consents that let the viewer see an assay another organisation holds (for the audit). */
  consents: string[];
  /** The assays so opened, as stored (the audit counts them among what was read). */
  shared: StoredVersion[];
}

/**
 * The assays a conclusion rests on, as `viewer` sees them: those it cites (derivedFrom,
 * hasMember) that are current, not void, about the same client, and visible to the viewer under
 * the access policy: its organisation's own and those another organisation shares by the
 * client's consent (a client tested A1 at a community site and A2, A3 at a clinic). The
 * conclusion write rule, the HIV care episode and the care gaps all read the assays through this
 * one function, so they cannot count different sets again (they once did: the episode, and later
 * the care gaps, counted only their own organisation's, and a strategy completed across two
 * organisations diagnosed nobody). `purpose` is the caller's declared purpose of use, decided as
 * a read decides it (TREAT when absent).
 */
export async function assaysSeen(reader: StoreReader, o: Observation, viewer: Principal, purpose?: string): Promise<AssaysSeen> {
  const patient = /^Patient\/([^/]+)$/.exec(o.subject?.reference ?? '')?.[1];
  const seen: AssaysSeen = { assays: [], consents: [], shared: [] };
  if (!patient) return seen;
  for (const id of memberIds(o)) {
    const v = await reader.read('Observation', id);
    const assay = v?.resource as Observation | undefined;
    if (!v || v.deleted || !assay || VOID_STATUSES.has(assay.status) || v.patient !== patient) continue;
    const a = assayOf(assay);
    if (!a) continue;
    const access = await accessTo(viewer, v, reader, purpose);
    if (!access.visible) continue;
    seen.assays.push(a);
    if (access.consentId) (seen.consents.push(access.consentId), seen.shared.push(v));
  }
  return seen;
}

/** The assays behind a conclusion that `viewer` may see (`assaysSeen`, without the consents). */
export async function assaysBehind(reader: StoreReader, o: Observation, viewer: Principal): Promise<Assay[]> {
  return (await assaysSeen(reader, o, viewer)).assays;
}

const describe = (assays: readonly Assay[]): string => assays.map((a) => `${a.step} ${a.result}`).join(', ');

/**
 * Whether `assays` support the recorded `result`. With no assay on record there is nothing to
 * check (a diagnosis made elsewhere, or assays the caller may not see): the conclusion stands.
 */
export function conclusionSupport(result: ConclusionResult, assays: readonly Assay[], visitDate: string): Support {
  if (!assays.length || parseDate(visitDate) === undefined) return { supported: true, rule: 'HIV.B7.DT' };
  const d = hivTestingStrategy({ assays: [...assays], visitDate });
  const recorded = `HIV-${result} is recorded, but the assays on record (${describe(assays)})`;
  // HIV.B7.DT.08: the only row that reports HIV-positive.
  const onlyAfter = result === 'positive' ? '; HIV-positive is reported only after A1+, A2+ and A3+ (HIV.B7.DT.08)' : '';
  if (!d.ok) {
    const reason = d.issues[0]?.diagnostics ?? 'not a sequence of the strategy';
    return { supported: false, says: { kind: 'off-strategy', rule: 'HIV.B7.DT', reason }, message: `${recorded} do not follow the testing strategy: ${reason}${onlyAfter}` };
  }
  if ('nextStep' in d.value) {
    const { nextStep, rule } = d.value;
    return { supported: false, says: { kind: 'next', nextStep, rule }, message: `${recorded} have not completed the testing strategy: the next assay is ${nextStep} (${rule})${onlyAfter}` };
  }
  const said = RESULT_OF[d.value.conclusion];
  const { rule, retestDate } = d.value;
  if (said === result) return { supported: true, rule, ...(retestDate ? { retestDate } : {}) };
  return {
    supported: false,
    says: { kind: 'conclusion', result: said, rule, ...(retestDate ? { retestDate } : {}) },
    message: `${recorded} conclude ${d.value.conclusion} (${rule})${onlyAfter}`,
  };
}
