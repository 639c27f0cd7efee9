/**
 * ARV pick-ups of one synthetic ART client: a MedicationDispense per pick-up from ART start to the
 * reference date, which TX_CURR's 28-day rule reads (WHO DAK HIV.IND.27: no longer on ART once the
 * last pick-up's supply ran out more than 28 days before the period end).
 *
 * Model: the first pick-up, at ART start, is a month's supply; after it each client has one
 * dispensing interval of WHO differentiated service delivery (multi-month dispensing, MMD_MIX) and
 * comes back around the end of each supply, up to EARLY_DAYS early or LATE_DAYS late. Most keep
 * coming; some stop at a random point with no exit recorded, and a smaller share miss a pick-up,
 * stay away AWAY_DAYS beyond it and come back, restarting with a month's supply (INTENTS; a stop
 * or miss due after the reference date does not show, a return after it shows as a stop). Over
 * 20,000 clients: ~85 % of ART clients kept coming, ~11 % stopped, ~4 % returned; ~6 pick-ups each.
 */
import type { MedicationDispense, MedicationRequest } from '@medplum/fhirtypes';
import * as C from './codes';
import { type ClientBuilder, DAY_MS, ONE_TABLET_DAILY, date, dosage, medication, ref } from './fhir';

/** Days of ARVs per pick-up, chosen per client, by weight: monthly 30 %, three-monthly 50 %, six-monthly 20 %. */
export const MMD_MIX = [[30, 30], [90, 50], [180, 20]] as const;
/** Supply of the first pick-up, and of the first after a return. */
export const START_DAYS = 30;
/** How early or late a pick-up comes, against the end of the previous supply. */
export const EARLY_DAYS = 5;
export const LATE_DAYS = 7;
/** How long a returning client stays away beyond the pick-up they missed (days). */
export const AWAY_DAYS = [45, 180] as const;
/** What clients intend, by weight: keep coming, stop for good, or interrupt and return. */
const INTENTS = [['continue', 80], ['stop', 12], ['interrupt', 8]] as const;

/** What happened by the reference date: kept coming, missed a pick-up and has not come back, or came back. */
export type ArtPattern = 'continuous' | 'stopped' | 'returned';

export interface ArtFacts {
  /** Days of supply per pick-up once started (MMD_MIX). */
  intervalDays: number;
  pattern: ArtPattern;
  /** Every pick-up in order: the day handed over and the days of supply. */
  pickups: { date: string; days: number }[];
}

function dispense(b: ClientBuilder, org: string, day: number, days: number, rx: MedicationRequest & { id: string }, regimen: C.Regimen): void {
  b.add<MedicationDispense & { id: string }>({
    resourceType: 'MedicationDispense',
    id: b.id(),
    status: 'completed',
    medicationCodeableConcept: medication(regimen),
    subject: ref('Patient', b.patient),
    performer: [{ actor: ref('Organization', org) }],
    authorizingPrescription: [ref('MedicationRequest', rx.id)],
    quantity: { value: days, ...C.TABLETS }, // one tablet a day
    daysSupply: { value: days, ...C.DAYS },
    whenHandedOver: b.time(day),
    dosageInstruction: [dosage(ONE_TABLET_DAILY)],
  }, org);
}

/** The pick-ups at `org` from ART start (`start`, the day of prescription `rx`) to asOf. */
export function artPickups(b: ClientBuilder, org: string, start: number, rx: MedicationRequest & { id: string }, regimen: C.Regimen): ArtFacts {
  const facts: ArtFacts = { intervalDays: b.rng.weighted(MMD_MIX), pattern: 'continuous', pickups: [] };
  const intent = b.rng.weighted(INTENTS);
  // The first pick-up due on or after this day is the one stopped at or missed.
  const breakDay = start + b.rng.int(1, Math.max(1, Math.floor((b.asOf - start) / DAY_MS))) * DAY_MS;
  let day = start;
  let days = START_DAYS;
  while (day <= b.asOf) {
    dispense(b, org, day, days, rx, regimen);
    facts.pickups.push({ date: date(day), days });
    day += (days + b.rng.int(-EARLY_DAYS, LATE_DAYS)) * DAY_MS;
    days = facts.intervalDays;
    if (intent === 'continue' || facts.pattern !== 'continuous' || day < breakDay || day > b.asOf) continue;
    if (intent === 'stop') {
      facts.pattern = 'stopped';
      break;
    }
    day += b.rng.int(AWAY_DAYS[0], AWAY_DAYS[1]) * DAY_MS;
    days = START_DAYS;
    facts.pattern = day <= b.asOf ? 'returned' : 'stopped';
  }
  return facts;
}
