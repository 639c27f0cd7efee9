/**
 * Every Patient carries exactly one server-assigned client code identifier. It is drawn at
 * registration (again on the rare collision, never merged) and kept unchanged by updates.
 */
import type { Identifier, Patient, Resource } from '@medplum/fhirtypes';
import type { StoreTx } from '../store/port';
import { unprocessable } from '../fhir/outcome';
import { CLIENT_CODE_SYSTEM, newClientCode } from './client-code';

const MAX_DRAWS = 8;

/** The client code of a Patient resource, if it has one. */
export function clientCodeOf(resource: Resource | undefined): string | undefined {
  return (resource as Patient | undefined)?.identifier?.find((i) => i.system === CLIENT_CODE_SYSTEM)?.value;
}

function withoutCode(p: Patient): Identifier[] {
  return (p.identifier ?? []).filter((i) => i.system !== CLIENT_CODE_SYSTEM);
}

/**
 * Returns the Patient to store: on create a fresh code (claimed in the store so that two clients
 * never share one); on update the code it already had. A client-supplied code that differs is a 422.
 */
export async function assignClientCode(tx: StoreTx, patient: Patient & { id: string }, existing?: Patient): Promise<Patient & { id: string }> {
  const given = clientCodeOf(patient);
  const kept = clientCodeOf(existing);
  if (given !== undefined && given !== kept) {
    throw unprocessable('Client codes are assigned by the server and cannot be set or changed', 'Patient.identifier');
  }
  let code = kept;
  for (let i = 0; !code && i < MAX_DRAWS; i++) {
    const candidate = newClientCode();
    if (await tx.claimPseudonym('client-code', candidate, patient.id)) code = candidate;
  }
  if (!code) throw new Error('could not draw a free client code');
  return { ...patient, identifier: [{ system: CLIENT_CODE_SYSTEM, value: code, use: 'official' }, ...withoutCode(patient)] };
}
