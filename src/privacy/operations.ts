/**
 * Client registration by UIC (`Patient/$register`) and the right to erasure (`Patient/[id]/$erase`).
 * The UIC is hashed with the server's key the moment it arrives; only that keyed hash is stored,
 * and neither the UIC nor the hash is ever returned or logged. Erasure and its guards: erasure.ts.
 */
import type { LinkcareModule } from '../modules';
import type { Coding, Patient } from '@medplum/fhirtypes';
import type { FhirContext, FhirRequest, FhirResponse } from '../fhir/context';
import { principalOf } from '../fhir/context';
import type { Operation, OperationRegistry } from '../fhir/operations';
import { readInput } from '../fhir/parameters';
import { createIn } from '../fhir/interactions/write';
import { instanceEntry } from '../audit/entries';
import { auditedUnit } from '../audit/recorder';
import { assertAllowed } from '../policy/access';
import { uicHash } from './uic';
import { erase } from './erasure';

const CANONICAL = 'https://linkcare.example.org/fhir/OperationDefinition';
/** Extension carrying the client's key population (DAK HIV.A registration data). */
export const KEY_POPULATION_EXTENSION = 'https://linkcare.example.org/fhir/StructureDefinition/key-population';

interface RegisterInput {
  uic?: string;
  birthYear: number;
  gender: Patient['gender'];
  keyPopulation?: Coding;
}

/** POST Patient/$register */
async function register(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const principal = principalOf(req);
  assertAllowed(principal, 'Patient', 'c');
  const input = readInput<RegisterInput>(req, 'register');
  const key = ctx.config.pseudonymKey;
  if (!key) throw new Error('pseudonym key missing');
  const hash = input.uic === undefined ? undefined : uicHash(input.uic, key);
  return auditedUnit(ctx.store, req.audit, async (tx) => {
    const known = hash ? await tx.findPseudonym('uic-hash', hash) : undefined;
    const existing = known ? await tx.read('Patient', known) : undefined;
    if (existing && !existing.deleted) {
      await tx.enrol(existing.id, principal.org);
      req.audit.add({ ...instanceEntry('U', '$register', existing), outcomeDesc: 'existing client enrolled' });
      return { status: 200, body: existing.resource };
    }
    const body: Patient = {
      resourceType: 'Patient',
      gender: input.gender,
      birthDate: String(input.birthYear),
      ...(input.keyPopulation ? { extension: [{ url: KEY_POPULATION_EXTENSION, valueCoding: input.keyPopulation }] } : {}),
    };
    const created = await createIn(ctx, tx, 'Patient', body, { principal });
    // A UIC bound to an erased or deleted client is re-bound to the new registration.
    if (hash && !(await tx.claimPseudonym('uic-hash', hash, created.version.id))) await tx.rebindPseudonym('uic-hash', hash, created.version.id);
    req.audit.add({ ...instanceEntry('C', '$register', created.version), outcomeDesc: 'new client registered' });
    return { status: 201, headers: { Location: `${ctx.config.baseUrl}/Patient/${created.version.id}/_history/1` }, body: created.version.resource };
  });
}

function definition(id: string, code: string, instance: boolean, description: string, parameter: Operation['definition']['parameter']): Operation['definition'] {
  return {
    resourceType: 'OperationDefinition',
    id,
    url: `${CANONICAL}/${id}`,
    name: id.replace(/[^A-Za-z]/g, ''),
    status: 'active',
    kind: 'operation',
    code,
    resource: ['Patient'],
    system: false,
    type: !instance,
    instance,
    affectsState: true,
    description,
    parameter,
  };
}

/** Registers $register and $erase. */
export function registerPrivacyOperations(ops: OperationRegistry): OperationRegistry {
  return ops
    .register({
      definition: definition('Patient-register', 'register', false, 'Find or register a client by UIC; enrols the client at the caller\'s organisation. The UIC is never stored: only a keyed hash.', [
        { name: 'uic', use: 'in', min: 0, max: '1', type: 'string', documentation: 'The programme\'s UIC recipe, normalised for case, spaces and accents' },
        { name: 'birthYear', use: 'in', min: 1, max: '1', type: 'integer' },
        { name: 'gender', use: 'in', min: 1, max: '1', type: 'code' },
        { name: 'keyPopulation', use: 'in', min: 0, max: '1', type: 'Coding' },
        { name: 'return', use: 'out', min: 1, max: '1', type: 'Patient' },
      ]),
      handler: (ctx, req) => register(ctx, req),
    })
    .register({
      definition: definition('Patient-erase', 'erase', true, 'Right to erasure: removes every resource and version about the client; audit events keep only the client code, and every organisation that held a record or an enrolment gets its own. Erasing a client known to other organisations needs a record about the client held here for at least 24 hours (else 403).', [
        { name: 'erased', use: 'out', min: 1, max: '1', type: 'integer' },
        { name: 'clientCode', use: 'out', min: 0, max: '1', type: 'string' },
      ]),
      handler: (ctx, req, target) => erase(ctx, req, target.id!),
    });
}

/** The privacy module: client registration and erasure. */
export const privacyModule: LinkcareModule = {
  name: 'privacy',
  registerOperations: (ops) => void registerPrivacyOperations(ops),
};
