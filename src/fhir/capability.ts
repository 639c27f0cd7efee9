/**
 * The CapabilityStatement (http://hl7.org/fhir/R4/capabilitystatement.html), generated from the
 * same tables the router and the search parser use, so it cannot drift from what the code does.
 */
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import type { FhirContext } from './context';
import { SUPPORTED_TYPES, isReadOnlyType } from './resource-types';

type Interaction = NonNullable<CapabilityStatementRestResource['interaction']>[number]['code'];

const READ_INTERACTIONS: Interaction[] = ['read', 'vread', 'history-instance', 'history-type', 'search-type'];
const WRITE_INTERACTIONS: Interaction[] = ['create', 'update', 'patch', 'delete'];

const SOFTWARE_VERSION = '0.1.0';

function resourceEntry(ctx: FhirContext, type: string): CapabilityStatementRestResource {
  const writable = !isReadOnlyType(type);
  const interactions = writable ? [...READ_INTERACTIONS, ...WRITE_INTERACTIONS] : READ_INTERACTIONS;
  return {
    type: type as CapabilityStatementRestResource['type'],
    interaction: interactions.map((code) => ({ code })),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: writable && ctx.config.clientIdTypes.includes(type),
    conditionalCreate: writable,
    conditionalRead: 'full-support',
    conditionalUpdate: writable,
    conditionalDelete: writable ? 'single' : 'not-supported',
    referencePolicy: ['literal', 'local'],
    searchParam: ctx.registry.forType(type).map((p) => ({ name: p.code, definition: p.url, type: p.type as 'token' })),
  };
}

/** Builds the server's CapabilityStatement. */
export function capabilityStatement(ctx: FhirContext): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'linkcare', version: SOFTWARE_VERSION },
    implementation: { description: 'linkcare FHIR R4 server', url: ctx.config.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        resource: SUPPORTED_TYPES.map((t) => resourceEntry(ctx, t)),
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }, { code: 'search-system' }],
        operation: ctx.operations.definitions().map((d) => ({ name: d.code!, definition: d.url! })),
      },
    ],
  };
}
