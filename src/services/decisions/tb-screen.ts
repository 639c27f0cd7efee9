/**
 * TB screening for adults and adolescents ≥ 10 years (DAK HIV.D4.DT: the W4SS table, rows 01–02,
 * and the sequential W4SS-then-CRP table, rows 03–06; source WHO operational handbook on
 * tuberculosis, Module 2: screening, 2021, algorithms A.3.1 and A.3.5).
 *
 * The DAK extract states rows .05 (CRP ≤ 5 mg/L) and .06 (CRP > 5 mg/L) with their outputs
 * swapped: their own guidance, the handbook and WHO's screening recommendation for adults and
 * adolescents with HIV all make a CRP above 5 mg/L the abnormal, screen-positive result. The
 * rows below keep the DAK conditions and ids and follow the handbook's outputs: a literal reading
 * of the extract would send people with a raised CRP home without diagnostic evaluation.
 */
import { type Decision, impossible, ok } from './result';

export type TbSymptom = 'cough' | 'fever' | 'weight-loss' | 'night-sweats';
export type TbAlgorithm = 'w4ss' | 'w4ss-crp';
export type TbResult = 'screen-positive' | 'screen-negative';

export interface TbScreenInput {
  age: number;
  /** No symptom given means none of the four (DAK "Symptoms of TB" = 'None'). */
  symptoms: TbSymptom[];
  /** C-reactive protein in mg/L, read only by the W4SS + CRP algorithm. */
  crp?: number;
  algorithm: TbAlgorithm;
}

export interface TbScreenOutcome {
  /** Absent while the CRP test is still to be done (HIV.D4.DT.04). */
  result?: TbResult;
  action: string;
  rule: string;
}

interface TbRow {
  id: string;
  algorithm: TbAlgorithm;
  symptomatic: boolean;
  /** undefined: the row does not read CRP. */
  crp?: 'not-done' | 'at-most-5' | 'above-5';
  result?: TbResult;
  action: string;
}

/** W4SS applies from age 10 (HIV.D4.DT.01–06 "Estimated age" ≥ 10 years). */
export const W4SS_MIN_AGE = 10;
/** mg/L; the lowest CRP value WHO treats as abnormal for TB screening (HIV.D4.DT.05–06 guidance). */
export const CRP_CUT_OFF = 5;

const REFER = 'Screen positive for TB. Refer for diagnostic evaluation, including a WHO-recommended rapid molecular test (mWRD), and clinical evaluation as indicated.';
const ASSESS_TPT = 'Screen negative for TB. Assess for TB preventive treatment (TPT).';

export const HIV_D4_ROWS: readonly TbRow[] = [
  { id: 'HIV.D4.DT.01', algorithm: 'w4ss', symptomatic: true, result: 'screen-positive', action: REFER },
  { id: 'HIV.D4.DT.02', algorithm: 'w4ss', symptomatic: false, result: 'screen-negative', action: ASSESS_TPT },
  { id: 'HIV.D4.DT.03', algorithm: 'w4ss-crp', symptomatic: false, result: 'screen-negative', action: ASSESS_TPT },
  { id: 'HIV.D4.DT.04', algorithm: 'w4ss-crp', symptomatic: true, crp: 'not-done', action: 'Perform a C-reactive protein test.' },
  // Outputs of .05 and .06 follow the handbook, not the extract (see the file comment).
  { id: 'HIV.D4.DT.05', algorithm: 'w4ss-crp', symptomatic: true, crp: 'at-most-5', result: 'screen-negative', action: `${ASSESS_TPT} Explore an alternative diagnosis for the symptoms.` },
  { id: 'HIV.D4.DT.06', algorithm: 'w4ss-crp', symptomatic: true, crp: 'above-5', result: 'screen-positive', action: REFER },
];

function crpBand(crp: number | undefined): TbRow['crp'] {
  if (crp === undefined) return 'not-done';
  return crp > CRP_CUT_OFF ? 'above-5' : 'at-most-5';
}

/** Screens for TB by symptoms, then CRP if chosen (DAK HIV.D4.DT, https://smart.who.int/hiv/). */
export function tbScreen(input: TbScreenInput): Decision<TbScreenOutcome> {
  if (input.age < 0) return impossible('age', 'age cannot be negative');
  if (input.age > 130) return impossible('age', 'age above 130 years is not a living person');
  if (input.age < W4SS_MIN_AGE) {
    return impossible('age', `W4SS applies from age ${W4SS_MIN_AGE} (HIV.D4.DT.01–06); children under 10 are screened with the child symptom screen and contact history (HIV.D4.DT.07–08), which this operation does not offer`);
  }
  if (input.crp !== undefined && input.crp < 0) return impossible('crp', 'crp cannot be negative');
  const symptomatic = input.symptoms.length > 0;
  // Rule order could also return .04 beside .05/.06; once a CRP value is given that test is done, so only the reading applies.
  const band = input.algorithm === 'w4ss-crp' && symptomatic ? crpBand(input.crp) : undefined;
  const row = HIV_D4_ROWS.find((r) => r.algorithm === input.algorithm && r.symptomatic === symptomatic && r.crp === band)!;
  return ok({ ...(row.result ? { result: row.result } : {}), action: row.action, rule: row.id });
}
