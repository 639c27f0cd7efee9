/**
 * The facts care gaps are decided on, read from a client's FHIR resources (those the caller may
 * see). Codes come from src/seed/codes.ts, the project's one list until schemas/terminology/ has
 * them. Entered-in-error and cancelled resources never count.
 */
import type {
  Condition, Immunization, MedicationRequest, Observation, Patient, Procedure, Resource, Task,
} from '@medplum/fhirtypes';
import * as C from '../seed/codes';
import { type Assay, hivTestingStrategy } from './decisions/hiv-testing-strategy';
import { type Coded, type ConclusionResult, type StrategySays, VOID_STATUSES, assayOf, conclusionOf, conclusionSupport, has, hasAny, memberIds } from './hiv-conclusion';

export interface Conclusion {
  /** The Observation's id. */
  id: string;
  date: string;
  /** As recorded. */
  result: ConclusionResult;
  /** The HIV.B7.DT row of the assays behind it, when they are on record. */
  rule: string;
  retestDate?: string;
  /**
   * Set when the assays recorded with it do not support `result` (HIV.B7.DT): what they say
   * instead. Such a conclusion diagnoses nothing; the care gaps follow the assays.
   */
  unsupported?: StrategySays;
}

export interface Medication {
  kind: 'art' | 'prep' | 'ost' | 'other';
  authoredOn: string;
  active: boolean;
  supplyDays: number;
}

/** A cervical screen (DAK HIV.S.3): its result, when recorded (HIV.D.DE707/.708/.694). */
export interface CervicalScreen {
  date: string;
  result?: 'negative' | 'positive';
}

export interface ClientRecord {
  gender?: string;
  birthYear?: number;
  keyPopulation: boolean;
  conclusions: Conclusion[];
  /** Assays after the last conclusion that the strategy has not concluded (e.g. a reactive A1 in outreach). */
  pendingStrategy?: { date: string; nextStep: string; rule: string };
  hivConditionDate?: string;
  /** Dates of HIV tests offered and declined (dataAbsentReason asked-declined): a refusal is data (SWIT 5.1). */
  declinedTests: string[];
  medications: Medication[];
  viralLoads: { date: string; value: number }[];
  tbScreens: { date: string; positive: boolean }[];
  /** Dates of TB diagnostic referrals (ServiceRequests), as FHIR dates. */
  tbReferralDates: string[];
  hbvDoses: string[];
  hbvSchedule?: 'standard' | 'accelerated';
  hbsagPositive: boolean;
  hbsagNegativeDate?: string;
  /** An HBsAg test offered and declined: a refusal is data, and no precondition of vaccination (SWIT 5.1). */
  hbsagDeclinedDate?: string;
  cervicalScreens: CervicalScreen[];
  urgentReferrals: { taskId: string; status: string; description: string; authoredOn: string; deadline?: string }[];
}

const OPEN_TASK = new Set(['requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold']);
const URGENT = new Set(['urgent', 'asap', 'stat']);
const DEFAULT_SUPPLY_DAYS = 30;

const codeIn = (cc: Coded, system: string): string | undefined => cc?.coding?.find((x) => x.system === system)?.code;
const DECLINED = { system: C.DATA_ABSENT, code: 'asked-declined' };
// The codes of the cervical-screening profile (schemas/terminology), read beside the seed's
// SNOMED ones until src/seed/codes.ts lists them (the hepatitis-test ones are there: C.HBSAG_*).
const CERVICAL_OBSERVATION = { system: 'https://linkcare.example.org/fhir/CodeSystem/observation-type', code: 'cervical-screening' };
const CERVICAL_NEGATIVE = { system: C.DAK, code: 'HIV.D.DE708' };
/** Positive for precancer lesions (HIV.D.DE707) or suspicious for invasive cancer (HIV.D.DE694). */
const CERVICAL_POSITIVE = [{ system: C.DAK, code: 'HIV.D.DE707' }, { system: C.DAK, code: 'HIV.D.DE694' }];
const cervicalResult = (cc: Coded): CervicalScreen['result'] => (has(cc, CERVICAL_NEGATIVE) ? 'negative' : hasAny(cc, CERVICAL_POSITIVE) ? 'positive' : undefined);

/** When an Observation happened, as the record dates it (none: it counts for nothing). */
export function when(o: Observation): string | undefined {
  return o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued;
}

function supplyDays(m: MedicationRequest): number {
  const d = m.dispenseRequest?.expectedSupplyDuration;
  if (d?.value === undefined) return DEFAULT_SUPPLY_DAYS;
  const perUnit: Record<string, number> = { d: 1, wk: 7, mo: 30 };
  return Math.round(d.value * (perUnit[d.code ?? 'd'] ?? 1));
}

/** A record with nothing on it (the care-gap rules' tests build theirs from it too). */
export function emptyClientRecord(): ClientRecord {
  return {
    keyPopulation: false,
    conclusions: [],
    declinedTests: [],
    medications: [],
    viralLoads: [],
    tbScreens: [],
    tbReferralDates: [],
    hbvDoses: [],
    hbsagPositive: false,
    cervicalScreens: [],
    urgentReferrals: [],
  };
}

/**
 * The assays behind each HIV conclusion, by the conclusion's id, as the caller sees them (the
 * operation reads them with `assaysSeen`: own and consent-shared, the set the HIV care episode
 * counts). A conclusion not in it counts the assays it cites among `resources`.
 */
export type AssaysByConclusion = ReadonlyMap<string, readonly Assay[]>;

/** The client's record, from their Patient and the compartment resources visible to the caller. */
export function clientRecord(patient: Patient, resources: readonly Resource[], assaysBehind: AssaysByConclusion = new Map()): ClientRecord {
  const rec: ClientRecord = {
    ...emptyClientRecord(),
    gender: patient.gender,
    birthYear: patient.birthDate ? Number(patient.birthDate.slice(0, 4)) : undefined,
  };
  const obs = resources.filter((r): r is Observation => r.resourceType === 'Observation' && !VOID_STATUSES.has(r.status));
  const byId = new Map(obs.map((o) => [o.id, o]));
  const inConclusion = new Set<string>();
  const unsupported = new Set<string>();
  for (const o of obs) {
    const at = when(o);
    if (!at) continue;
    if (has(o.code, C.KEY_POPULATION)) rec.keyPopulation = true;
    else if (has(o.code, C.HIV_CONCLUSION)) {
      const members = memberIds(o).map((id) => byId.get(id)).filter((m): m is Observation => !!m);
      for (const m of members) inConclusion.add(m.id!);
      const result = conclusionOf(o);
      // A declined test (dataAbsentReason asked-declined) is recorded refusal, not a result.
      if (!result) {
        if (has(o.dataAbsentReason, DECLINED)) rec.declinedTests.push(at);
        continue;
      }
      // HIV.B7.DT decides what the assays mean, not the label on the conclusion: a "positive"
      // after a single reactive A1 is an unfinished strategy (next A2, HIV.B7.DT.02).
      const assays = assaysBehind.get(o.id!) ?? members.map(assayOf).filter((a): a is Assay => !!a);
      const support = conclusionSupport(result, assays, at.slice(0, 10));
      if (support.supported) rec.conclusions.push({ id: o.id!, date: at, result, rule: support.rule, retestDate: support.retestDate });
      else {
        unsupported.add(o.id!);
        rec.conclusions.push({ id: o.id!, date: at, result, rule: support.says.rule, unsupported: support.says });
      }
    } else if (has(o.code, C.VIRAL_LOAD) && o.valueQuantity?.value !== undefined) rec.viralLoads.push({ date: at, value: o.valueQuantity.value });
    else if (has(o.code, C.TB_SCREEN)) rec.tbScreens.push({ date: at, positive: has(o.valueCodeableConcept, C.TB_SCREEN_POSITIVE) });
    else if (hasAny(o.code, C.HBSAG_CODINGS)) {
      // An indeterminate result (HIV.D.DE165) is neither: vaccination stays offered.
      if (hasAny(o.valueCodeableConcept, C.HBSAG_POSITIVE_CODINGS)) rec.hbsagPositive = true;
      else if (hasAny(o.valueCodeableConcept, C.HBSAG_NEGATIVE_CODINGS)) rec.hbsagNegativeDate = at;
      else if (has(o.dataAbsentReason, DECLINED)) rec.hbsagDeclinedDate = at;
    } else if (has(o.code, CERVICAL_OBSERVATION) || has(o.code, C.CERVICAL_SCREENING)) {
      const result = cervicalResult(o.valueCodeableConcept);
      rec.cervicalScreens.push({ date: at, ...(result ? { result } : {}) });
    }
  }
  rec.pendingStrategy = pending(obs.filter((o) => has(o.code, C.HIV_RDT) && !inConclusion.has(o.id!)));
  const conclusionIds = new Set(rec.conclusions.map((c) => c.id));
  const restsOnUnsupported = (ids: string[]): boolean => {
    const cited = ids.filter((id) => conclusionIds.has(id));
    return cited.length > 0 && cited.every((id) => unsupported.has(id));
  };
  for (const r of resources) collect(rec, r, restsOnUnsupported);
  return rec;
}

/** Assays of the latest day that no conclusion covers, walked through the strategy. */
function pending(loose: Observation[]): ClientRecord['pendingStrategy'] {
  const lastDay = loose.map((o) => when(o)!.slice(0, 10)).sort().pop();
  if (!lastDay) return undefined;
  const assays = loose.filter((o) => when(o)!.startsWith(lastDay)).map(assayOf).filter((a): a is Assay => !!a);
  const d = hivTestingStrategy({ assays, visitDate: lastDay });
  return d.ok && 'nextStep' in d.value ? { date: lastDay, nextStep: d.value.nextStep, rule: d.value.rule } : undefined;
}

/** `restsOnUnsupported`: whether the conclusions a Condition cites as evidence are all ones their assays do not support. */
function collect(rec: ClientRecord, r: Resource, restsOnUnsupported: (observationIds: string[]) => boolean): void {
  switch (r.resourceType) {
    case 'Condition': {
      const c = r as Condition;
      const evidence = (c.evidence ?? []).flatMap((e) => e.detail ?? []).map((d) => /^Observation\/([^/]+)$/.exec(d.reference ?? '')?.[1]).filter((id): id is string => !!id);
      // A diagnosis that rests only on an unfinished or contradicted strategy (HIV.B7.DT) is no diagnosis either.
      if (has(c.code, C.HIV_INFECTION) && !has(c.verificationStatus, { system: C.CONDITION_VERIFICATION, code: 'entered-in-error' }) && !restsOnUnsupported(evidence)) {
        const d = c.onsetDateTime ?? c.recordedDate;
        if (d && (!rec.hivConditionDate || d < rec.hivConditionDate)) rec.hivConditionDate = d;
      }
      return;
    }
    case 'MedicationRequest': {
      const m = r as MedicationRequest;
      if (VOID_STATUSES.has(m.status) || !m.authoredOn) return;
      const med = m.medicationCodeableConcept;
      const kind = hasAny(med, C.ART_CODINGS) ? 'art' : hasAny(med, C.PREP_CODINGS) ? 'prep' : hasAny(med, C.OST_CODINGS) ? 'ost' : 'other';
      rec.medications.push({ kind, authoredOn: m.authoredOn, active: m.status === 'active', supplyDays: supplyDays(m) });
      return;
    }
    case 'Immunization': {
      const i = r as Immunization;
      if (i.status !== 'completed' || !hasAny(i.vaccineCode, [C.HBV_VACCINE, C.HBV_VACCINE_CVX]) || !i.occurrenceDateTime) return;
      rec.hbvDoses.push(i.occurrenceDateTime);
      if (i.protocolApplied?.some((p) => p.series === 'accelerated')) rec.hbvSchedule = 'accelerated';
      return;
    }
    case 'Procedure': {
      const p = r as Procedure;
      if (p.status !== 'completed' || !has(p.code, C.CERVICAL_SCREENING) || !p.performedDateTime) return;
      // Without a recorded outcome the result is unknown, which never counts as negative (HIV.S.3 stop rule).
      const result = cervicalResult(p.outcome);
      rec.cervicalScreens.push({ date: p.performedDateTime, ...(result ? { result } : {}) });
      return;
    }
    case 'ServiceRequest': {
      if (VOID_STATUSES.has(r.status) || codeIn(r.code, C.REFERRAL_SYSTEM) !== 'tb-diagnostics') return;
      if (r.authoredOn) rec.tbReferralDates.push(r.authoredOn.slice(0, 10));
      return;
    }
    case 'Task': {
      const t = r as Task;
      if (!OPEN_TASK.has(t.status) || !URGENT.has(t.priority ?? '') || !t.authoredOn) return;
      rec.urgentReferrals.push({ taskId: t.id!, status: t.status, description: t.description ?? 'referral', authoredOn: t.authoredOn, deadline: t.restriction?.period?.end });
      return;
    }
    default:
  }
}
