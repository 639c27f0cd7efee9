/**
 * Resource builders for the synthetic programme, and the per-client builder that collects them
 * with their custody. Resources are shaped as the API would accept them (tests run a sample
 * through the server's validator and PII guard); nobody in them is real.
 */
import type { CodeableConcept, Coding, Dosage, Observation, Resource } from '@medplum/fhirtypes';
import { type Rng, seededUuid } from './prng';
import * as C from './codes';

export const DAY_MS = 86_400_000;

/** One resource to write, with who holds it and whose record it is in. */
export interface SeedItem {
  resource: Resource & { id: string };
  /** Organisation that holds it (the access policy's custodian). */
  custodian: string;
  /** The client whose compartment it is in (its own id for a Patient). */
  patient?: string;
  /** Patients only: the client code to claim as a pseudonym. */
  clientCode?: string;
  /** Patients only: organisations where the client is enrolled. */
  enrol?: string[];
}

/** A FHIR date of a day number (ms at midnight UTC). */
export const date = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
/** A FHIR dateTime during clinic hours of that day (UTC), without milliseconds. */
export const at = (ms: number, minuteOfDay = 600): string => new Date(ms + minuteOfDay * 60_000).toISOString().replace('.000Z', 'Z');
export const ref = (type: string, id: string): { reference: string } => ({ reference: `${type}/${id}` });
export const cc = (coding: Coding, text?: string): CodeableConcept => ({ coding: [coding], text: text ?? coding.display });

/** The medication of a regimen, as prescriptions and dispenses carry it. */
export const medication = (regimen: C.Regimen): CodeableConcept => ({ coding: [...C.REGIMENS[regimen]], text: C.REGIMENS[regimen].at(-1)!.display });

/**
 * A dose: always its text and, for a measured one (OST), the amount in mg and how many times a
 * day, coded so indicators can read it (HIV.IND.14: dosageInstruction[0].doseAndRate[0].doseQuantity.value).
 */
export interface Dose {
  text: string;
  mg?: number;
  timesPerDay?: number;
}

export const ONE_TABLET_DAILY: Dose = { text: 'One tablet by mouth daily' };

/** The Dosage of a dose, built afresh for each resource. */
export function dosage(dose: Dose): Dosage {
  return {
    text: dose.text,
    ...(dose.timesPerDay !== undefined && { timing: { repeat: { frequency: dose.timesPerDay, period: 1, periodUnit: 'd' } } }),
    ...(dose.mg !== undefined && { doseAndRate: [{ doseQuantity: { value: dose.mg, ...C.MG } }] }),
  };
}

/** Collects one client's resources, numbering ids so they are reproducible. */
export class ClientBuilder {
  readonly items: SeedItem[] = [];
  private n = 0;
  /** Clinic visits already made by minute of day, so times within a day stay in order. */
  private minute = 540;

  constructor(readonly seed: number, readonly k: number, readonly rng: Rng, readonly asOf: number, readonly patient: string) {}

  /** The next reproducible id of this client. */
  id(): string {
    return seededUuid(this.seed, this.k, ++this.n);
  }

  /** A dateTime on `day` later than the previous one, so a visit's records read in order. */
  time(day: number): string {
    this.minute = this.minute >= 1020 ? 540 : this.minute + 7;
    return at(day, this.minute);
  }

  add<T extends Resource & { id: string }>(resource: T, custodian: string): T {
    this.items.push({ resource, custodian, patient: this.patient });
    return resource;
  }

  /** An Observation about this client, held by `org`. */
  observation(org: string, when: string, code: Coding, value: Partial<Observation>, category = 'laboratory'): Observation & { id: string } {
    return this.add<Observation & { id: string }>({
      resourceType: 'Observation',
      id: this.id(),
      status: 'final',
      category: [{ coding: [{ system: C.OBS_CATEGORY, code: category }] }],
      code: cc(code),
      subject: ref('Patient', this.patient),
      effectiveDateTime: when,
      performer: [ref('Organization', org)],
      ...value,
    }, org);
  }
}
