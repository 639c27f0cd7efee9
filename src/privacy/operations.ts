/**
 * Client registration by UIC (`Patient/$register`) and the right to erasure (`Patient/[id]/$erase`).
 * The UIC is hashed with the server's key the moment it arrives; only that keyed hash is stored,
 * and neither the UIC nor the hash is ever returned or logged.
 */
import type { LinkcareModule } from '../modules';
import type { Coding, Patient } from '@medplum/fhirtypes';
import type { FhirContext, FhirRequest, FhirResponse } from '../fhir/context';
import { principalOf } from '../fhir/context';
import { forbidden, notFound } from '../fhir/outcome';
import type { Operation, OperationRegistry } from '../fhir/operations';
import { outputParameters, readInput } from '../fhir/parameters';
import { createIn } from '../fhir/interactions/write';
import { instanceEntry } from '../audit/entries';
import { auditedUnit } from '../audit/recorder';
import { assertAllowed, canSee } from '../policy/access';
import { uicHash } from './uic';
import { CONSENT_STAMP } from '../consent/lookup';
import { clientCodeOf } from './client-code-assign';

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

/** POST Patient/[id]/$erase: an admin of an organisation where the client is enrolled, at the client's request. */
async function erase(ctx: FhirContext, req: FhirRequest, id: string): Promise<FhirResponse> {
  const principal = principalOf(req);
  readInput<Record<string, never>>(req, 'erase');
  if (!principal.roles.includes('admin')) throw forbidden('Only an administrator may erase a client');
  assertAllowed(principal, 'Patient', 'r');
  const patient = await ctx.store.read('Patient', id);
  if (!patient || !(await canSee(principal, patient, ctx.store))) throw notFound(`Patient/${id} not found`);
  const result = await auditedUnit(ctx.store, req.audit, async (tx) => {
    const current = await tx.read('Patient', id);
    const code = clientCodeOf(current?.resource) ?? clientCodeOf((await tx.history({ type: 'Patient', id, count: 50 })).entries.find((e) => e.resource)?.resource);
    const removed = await tx.erasePatient(id);
    // The client's consents went too: cached consent grants must be rebuilt.
    await tx.touch(CONSENT_STAMP);
    req.audit.add({ action: 'D', subtype: '$erase', outcome: '0', outcomeDesc: `${removed} resource(s) erased`, ...(code ? { clientCodes: [code] } : {}) });
    return { removed, code };
  });
  await ctx.store.purge();
  return {
    status: 200,
    body: outputParameters([
      { name: 'erased', valueInteger: result.removed },
      ...(result.code ? [{ name: 'clientCode', valueString: result.code }] : []),
    ]),
  };
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
      definition: definition('Patient-erase', 'erase', true, 'Right to erasure: removes every resource and version about the client; audit events keep only the client code.', [
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
