/**
 * The project's own SearchParameters (beyond R4's), served at /fhir/SearchParameter and
 * indexed like the official ones. Later issues add consent, referral and linkage parameters here.
 */
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { supplyEnd } from './supply-end';

const BASE = 'https://linkcare.example.org/fhir/SearchParameter';

/** Task deadline: `Task.restriction.period.end`, for overdue referral worklists. */
const taskDeadline: SearchParameter = {
  resourceType: 'SearchParameter',
  id: 'Task-deadline',
  url: `${BASE}/Task-deadline`,
  name: 'deadline',
  status: 'active',
  description: 'When the referral must be done by (Task.restriction.period.end)',
  code: 'deadline',
  base: ['Task'],
  type: 'date',
  expression: 'Task.restriction.period.end',
};

/**
 * Consent recipient at any depth: R4's `actor` reads only the base provision, but IHE Privacy
 * Consent puts recipients in nested provisions (exceptions) too. Added by the consent module.
 */
const consentRecipient: SearchParameter = {
  resourceType: 'SearchParameter',
  id: 'Consent-recipient',
  url: `${BASE}/Consent-recipient`,
  name: 'recipient',
  status: 'active',
  description: 'Organisations named as actors in any provision of the consent, nested ones included',
  code: 'recipient',
  base: ['Consent'],
  type: 'reference',
  expression: 'Consent.provision.actor.reference | Consent.provision.provision.actor.reference | Consent.provision.provision.provision.actor.reference',
  target: ['Organization'],
};

/** Half-hour slot starts of a day, `0000` … `2330`. */
const SLOTS = Array.from({ length: 48 }, (_, i) => `${String(Math.floor(i / 2)).padStart(2, '0')}${i % 2 ? '30' : '00'}`);

/**
 * One union term per half-hour slot: the days on which an `availableTime` covers the slot's start
 * (all day, or start ≤ slot < end; times are `hh:mm:ss`, so text order is time order), as
 * `<day>-<hhmm>` tokens. The FHIRPath runs once per write of a HealthcareService.
 */
const availableAtExpression = SLOTS.map((s) => {
  const t = `${s.slice(0, 2)}:${s.slice(2)}:00`;
  return `HealthcareService.availableTime.where(allDay = true or (availableStartTime <= '${t}' and availableEndTime > '${t}')).daysOfWeek.select($this + '-${s}')`;
}).join(' | ');

/**
 * HealthcareService open at a half-hour of the week, in the service's local time
 * (http://hl7.org/fhir/R4/healthcareservice-definitions.html#HealthcareService.availableTime):
 * `available-at=mon-1330` finds services open on Mondays at 13:30. "Open now" is this with the
 * current slot (src/referrals/directory.ts); see docs/referrals.md#service-directory.
 */
const healthcareServiceAvailableAt: SearchParameter = {
  resourceType: 'SearchParameter',
  id: 'HealthcareService-available-at',
  url: `${BASE}/HealthcareService-available-at`,
  name: 'available-at',
  status: 'active',
  description: 'Open at this half-hour of the week, local time: <mon|tue|wed|thu|fri|sat|sun>-<hhmm>, hhmm on the half hour',
  code: 'available-at',
  base: ['HealthcareService'],
  type: 'token',
  expression: availableAtExpression,
};

/** Whole days from HIV diagnosis to ART start, kept on the HIV care episode (docs/linkage.md). */
const daysToArt: SearchParameter = {
  resourceType: 'SearchParameter',
  id: 'EpisodeOfCare-days-to-art',
  url: `${BASE}/EpisodeOfCare-days-to-art`,
  name: 'days-to-art',
  status: 'active',
  code: 'days-to-art',
  base: ['EpisodeOfCare'],
  type: 'number',
  description: 'Whole days from HIV diagnosis to ART start',
  expression: "EpisodeOfCare.extension.where(url = 'https://linkcare.example.org/fhir/StructureDefinition/days-to-art').value",
};

/**
 * When a dispensed or prescribed supply runs out, for defaulter tracing (`MedicationDispense?
 * supply-end=lt2026-11-01`) and for TX_CURR's "more than 28 days late for an ARV pick-up" (DAK
 * HIV.IND.27/28). Computed by `supplyEnd` (supply-end.ts): Medplum's FHIRPath has no date arithmetic.
 */
const supplyEndParam: SearchParameter = {
  resourceType: 'SearchParameter',
  id: 'medication-supply-end',
  url: `${BASE}/medication-supply-end`,
  name: 'supply-end',
  status: 'active',
  description:
    'The day the supply runs out: MedicationDispense.whenHandedOver + daysSupply, or MedicationRequest.authoredOn + ' +
    'dispenseRequest.expectedSupplyDuration (one fill); units d, wk, mo, a (UCUM) or their names',
  code: 'supply-end',
  base: ['MedicationDispense', 'MedicationRequest'],
  type: 'date',
  expression:
    '(MedicationDispense.whenHandedOver + MedicationDispense.daysSupply) | (MedicationRequest.authoredOn + MedicationRequest.dispenseRequest.expectedSupplyDuration)',
};

export const PROJECT_SEARCH_PARAMETERS: SearchParameter[] = [daysToArt, taskDeadline, consentRecipient, healthcareServiceAvailableAt, supplyEndParam];

/** Parameters whose values come from code instead of their FHIRPath, by url. */
export const COMPUTED_VALUES: ReadonlyMap<string, (resource: Resource) => string | undefined> = new Map([[supplyEndParam.url!, supplyEnd]]);
