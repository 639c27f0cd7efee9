/**
 * Care after an exposure to HIV, and post-rape care (SWIT 5.7, as summarised in
 * shared/domain.md): PEP within 72 hours, emergency contraception within 120 hours, STI
 * prophylaxis, hepatitis B vaccination, an HIV test and mental-health follow-up from 3 months.
 * No DAK table covers this; the rule ids below are this module's own (prefix SWIT5.7).
 * Nothing is made a precondition of anything else: an unknown HIV status does not hold PEP back
 * until a test is done (SWIT 5.1, voluntary and informed consent).
 * `sex` takes FHIR administrative-gender codes: it says how a client is registered, not whether
 * they can become pregnant (DAK HIV.A.DE18 gender, incl. transgender men, is not HIV.A.DE25 sex
 * assigned at birth), so it never rules emergency contraception out on its own.
 */
import { HOUR_MS, addMonths, formatDate, formatDateTime, localDateOf, parseDateTime } from './dates';
import { type Decision, impossible, malformed, ok } from './result';

export type ExposureType = 'sexual-assault' | 'condom-failure' | 'condomless-sex' | 'needle-sharing' | 'occupational';
export type HivStatus = 'HIV-positive' | 'HIV-negative' | 'unknown';
export type Sex = 'female' | 'male' | 'other' | 'unknown';

export interface PostExposureInput {
  exposureDateTime: string;
  assessmentDateTime: string;
  exposureType: ExposureType;
  hivStatus: HivStatus;
  pregnant: boolean;
  sex: Sex;
  /**
   * false only when the record rules pregnancy out (e.g. sex assigned at birth male, DAK
   * HIV.A.DE25, or the client says so); absent when nothing does, which offers EC.
   */
  pregnancyPossible?: boolean;
}

export interface FollowUp {
  service: string;
  dueDate: string;
}

export interface PostExposureOutcome {
  pepEligible: boolean;
  pepDeadline?: string;
  ecEligible: boolean;
  ecDeadline?: string;
  stiProphylaxis: boolean;
  hbvVaccination: boolean;
  followUp: FollowUp[];
  /** Every rule that fired, in the order above. */
  rules: string[];
}

/** SWIT 5.7: PEP must start within 72 hours of the exposure. */
export const PEP_WINDOW_HOURS = 72;
/** SWIT 5.7: emergency contraception within 120 hours (5 days). */
export const EC_WINDOW_HOURS = 120;
/** SWIT 5.7: HIV test and mental-health follow-up from 3 months after the exposure. */
export const FOLLOW_UP_MONTHS = 3;

export const SEXUAL_EXPOSURES: ReadonlySet<ExposureType> = new Set(['sexual-assault', 'condom-failure', 'condomless-sex']);

export const POST_EXPOSURE_RULES = {
  pepInWindow: 'SWIT5.7.PEP.01',
  pepTooLate: 'SWIT5.7.PEP.02',
  pepLivingWithHiv: 'SWIT5.7.PEP.03',
  ecInWindow: 'SWIT5.7.EC.01',
  ecTooLate: 'SWIT5.7.EC.02',
  ecNotApplicable: 'SWIT5.7.EC.03',
  assaultPackage: 'SWIT5.7.SA.01',
  noAssaultPackage: 'SWIT5.7.SA.02',
  hivTestFollowUp: 'SWIT5.7.FU.01',
} as const;

/** PEP, emergency contraception and post-rape care after an exposure (SWIT 5.7, https://www.who.int/publications/i/item/9789241506182). */
export function postExposure(input: PostExposureInput): Decision<PostExposureOutcome> {
  const exposure = parseDateTime(input.exposureDateTime);
  if (exposure === undefined) return malformed('exposureDateTime', 'exposureDateTime must be a dateTime with time and time zone, e.g. 2024-05-01T22:30:00+02:00');
  const assessment = parseDateTime(input.assessmentDateTime);
  if (assessment === undefined) return malformed('assessmentDateTime', 'assessmentDateTime must be a dateTime with time and time zone');
  if (assessment < exposure) return impossible('assessmentDateTime', 'assessmentDateTime is before exposureDateTime');
  // Not refused for sex male: a transgender man registered as male may be pregnant.
  if (input.pregnant && input.pregnancyPossible === false) return impossible('pregnant', 'pregnant is true while pregnancyPossible is false');

  const R = POST_EXPOSURE_RULES;
  const rules: string[] = [];
  const elapsed = assessment - exposure;

  // Deadlines are inclusive: at exactly 72 h (or 120 h) the window is still open.
  let pep: Pick<PostExposureOutcome, 'pepEligible' | 'pepDeadline'>;
  if (input.hivStatus === 'HIV-positive') {
    // PEP prevents acquisition; someone already living with HIV needs care and ART instead.
    pep = { pepEligible: false };
    rules.push(R.pepLivingWithHiv);
  } else {
    const inWindow = elapsed <= PEP_WINDOW_HOURS * HOUR_MS;
    pep = { pepEligible: inWindow, pepDeadline: formatDateTime(exposure + PEP_WINDOW_HOURS * HOUR_MS) };
    rules.push(inWindow ? R.pepInWindow : R.pepTooLate);
  }

  // SWIT 5.7 (shared/domain.md): post-rape care includes emergency contraception within 120
  // hours. Offered after any sexual exposure unless the client is already pregnant or the record
  // rules pregnancy out; never withheld on the registered gender (male, other, unknown), which
  // would miss transgender men and others who can become pregnant. After a needle or
  // occupational exposure there is nothing for contraception to prevent.
  let ec: Pick<PostExposureOutcome, 'ecEligible' | 'ecDeadline'>;
  if (!input.pregnant && input.pregnancyPossible !== false && SEXUAL_EXPOSURES.has(input.exposureType)) {
    const inWindow = elapsed <= EC_WINDOW_HOURS * HOUR_MS;
    ec = { ecEligible: inWindow, ecDeadline: formatDateTime(exposure + EC_WINDOW_HOURS * HOUR_MS) };
    rules.push(inWindow ? R.ecInWindow : R.ecTooLate);
  } else {
    ec = { ecEligible: false };
    rules.push(R.ecNotApplicable);
  }

  // SWIT 5.7 lists STI prophylaxis, hepatitis B vaccination and mental-health follow-up as parts
  // of post-rape care: a survivor may not come back for test results, so STIs are treated
  // presumptively; vaccination started soon after the assault can still prevent hepatitis B; and
  // the psychological harm of violence often shows after the acute phase, hence from 3 months.
  const assault = input.exposureType === 'sexual-assault';
  rules.push(assault ? R.assaultPackage : R.noAssaultPackage);

  // Follow-up dates count from the client's own calendar day of the exposure, not the UTC day.
  const from = addMonths(localDateOf(input.exposureDateTime)!, FOLLOW_UP_MONTHS);
  const followUp: FollowUp[] = [];
  if (input.hivStatus !== 'HIV-positive') {
    followUp.push({ service: 'HIV test', dueDate: formatDate(from) });
    rules.push(R.hivTestFollowUp);
  }
  if (assault) followUp.push({ service: 'Mental-health follow-up', dueDate: formatDate(from) });

  return ok({ ...pep, ...ec, stiProphylaxis: assault, hbvVaccination: assault, followUp, rules });
}
