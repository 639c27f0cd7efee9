/**
 * The day a medicine supply runs out: the day it was handed over (or prescribed) plus the days it
 * covers. FHIRPath defines `dateTime + Quantity` for time-valued quantities
 * (http://hl7.org/fhirpath/N1/#date-time-arithmetic), but Medplum's engine concatenates them as
 * strings, so the `supply-end` parameter (project-params.ts) is computed here instead.
 */
import type { Duration, MedicationDispense, MedicationRequest, Quantity, Resource } from '@medplum/fhirtypes';
import { UCUM_SYSTEM } from './ucum';

const DAY_MS = 86_400_000;
/** Definite units as days; months and years are calendar ones, as FHIRPath's date arithmetic has them. */
const DAYS_PER_UNIT: Readonly<Record<string, number>> = { d: 1, day: 1, days: 1, wk: 7, week: 7, weeks: 7 };
const MONTHS_PER_UNIT: Readonly<Record<string, number>> = { mo: 1, month: 1, months: 1, a: 12, year: 12, years: 12 };

/**
 * Supply end of an ARV (or any) dispense or prescription, as a FHIR date, or undefined when the
 * record does not say both when and for how long: MedicationDispense.whenHandedOver + daysSupply;
 * MedicationRequest.authoredOn + dispenseRequest.expectedSupplyDuration (one fill; repeats are
 * recorded as their own dispenses). The start day is the record's own calendar day, as written.
 */
export function supplyEnd(resource: Resource): string | undefined {
  if (resource.resourceType === 'MedicationDispense') {
    const d = resource as MedicationDispense;
    return addSupply(d.whenHandedOver, d.daysSupply);
  }
  if (resource.resourceType === 'MedicationRequest') {
    const r = resource as MedicationRequest;
    return addSupply(r.authoredOn, r.dispenseRequest?.expectedSupplyDuration);
  }
  return undefined;
}

function addSupply(start: string | undefined, amount: Quantity | Duration | undefined): string | undefined {
  const day = start && /^\d{4}-\d{2}-\d{2}/.exec(start)?.[0];
  const value = amount?.value;
  if (!day || typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 36_600) return undefined;
  // The unit is the UCUM code when the quantity says it is UCUM (or names no system), else its text.
  const unit = amount!.code && (!amount!.system || amount!.system === UCUM_SYSTEM) ? amount!.code : amount!.unit?.toLowerCase();
  const from = Date.parse(`${day}T00:00:00Z`);
  if (!unit || Number.isNaN(from)) return undefined;
  if (unit in DAYS_PER_UNIT) return isoDay(from + Math.round(value * DAYS_PER_UNIT[unit]) * DAY_MS);
  if (unit in MONTHS_PER_UNIT && Number.isInteger(value)) {
    // A day the target month lacks (31 Jan + 1 month) becomes that month's last day.
    const d = new Date(from);
    const month = d.getUTCMonth() + value * MONTHS_PER_UNIT[unit];
    const last = new Date(Date.UTC(d.getUTCFullYear(), month + 1, 0)).getUTCDate();
    return isoDay(Date.UTC(d.getUTCFullYear(), month, Math.min(d.getUTCDate(), last)));
  }
  return undefined;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
