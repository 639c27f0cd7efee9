/**
 * The CapabilityStatement (http://hl7.org/fhir/R4/capabilitystatement.html), generated from the
 * same tables the router and the search parser use, so it cannot drift from what the code does.
 */
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { type FhirContext, type FhirRequest, type FhirResponse, queryValues } from './context';
import { badRequest } from './outcome';
import { SUPPORTED_TYPES, isReadOnlyType } from './resource-types';
import { CONFORMANCE_SEARCH, isConformanceType } from './interactions/conformance';
import { type ServerIdentity, terminologyCapabilities } from './terminology-capabilities';

type Interaction = NonNullable<CapabilityStatementRestResource['interaction']>[number]['code'];

const READ_INTERACTIONS: Interaction[] = ['read', 'vread', 'history-instance', 'history-type', 'search-type'];
const WRITE_INTERACTIONS: Interaction[] = ['create', 'update', 'patch', 'delete'];

const SOFTWARE_VERSION = '0.1.0';

/** The software and the implementation, as both capability statements name them. */
function identity(ctx: FhirContext): ServerIdentity {
  return {
    software: { name: 'linkcare', version: SOFTWARE_VERSION },
    implementation: { description: 'linkcare FHIR R4 server', url: ctx.config.baseUrl },
  };
}

/** SearchParameter and OperationDefinition come from the code: read and a small search only. */
function conformanceEntry(type: string): CapabilityStatementRestResource {
  return {
    type: type as CapabilityStatementRestResource['type'],
    interaction: [{ code: 'read' }, { code: 'search-type' }],
    versioning: 'no-version',
    readHistory: false,
    conditionalRead: 'not-supported',
    searchParam: Object.entries(CONFORMANCE_SEARCH).map(([name, t]) => ({ name, type: t })),
  };
}

function resourceEntry(ctx: FhirContext, type: string): CapabilityStatementRestResource {
  if (isConformanceType(type)) return conformanceEntry(type);
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
    ...identity(ctx),
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: true,
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' }] }],
          description:
            'Every request except GET /metadata needs Authorization: Bearer <JWT> (claims sub, org, roles; optional SMART v2 or v1 ' +
            'user scopes such as user/Observation.rs). What a user may do is what their role allows intersected with their scopes, ' +
            'on the data their organisation holds or a client consent shares (docs/security.md).',
        },
        resource: SUPPORTED_TYPES.map((t) => resourceEntry(ctx, t)),
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }, { code: 'search-system' }],
        operation: ctx.operations.definitions().map((d) => ({ name: d.code!, definition: d.url! })),
      },
    ],
  };
}

/** The values of `mode` on [base]/metadata (http://hl7.org/fhir/R4/http.html#capabilities). */
const MODES = ['full', 'normative', 'terminology'] as const;
type Mode = (typeof MODES)[number];

/** The `mode` asked for (`full` when absent); an unknown or repeated value is a 400 naming it. */
function modeOf(req: FhirRequest): Mode {
  const given = queryValues(req.query, 'mode');
  if (given.length > 1) throw badRequest('Give mode at most once', 'mode');
  const mode = given[0] ?? 'full';
  if (!(MODES as readonly string[]).includes(mode)) {
    throw badRequest(`Unknown mode "${mode}": use ${MODES.join(', ')} (http://hl7.org/fhir/R4/http.html#capabilities)`, 'mode');
  }
  return mode as Mode;
}

/**
 * GET [base]/metadata: the CapabilityStatement, or with `mode=terminology` the TerminologyCapabilities.
 * `mode=normative` also answers the whole CapabilityStatement: the resource itself is normative in
 * R4, and trimming the entries of trial-use resource types and operations would need a maturity
 * table of every type this server does not keep, so the answer is a superset of the normative part.
 * Other parameters (e.g. `_format`) are ignored here, as they always were.
 */
export async function metadata(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const mode = modeOf(req);
  if (mode === 'terminology') return { status: 200, body: await terminologyCapabilities(ctx, identity(ctx)) };
  return { status: 200, body: capabilityStatement(ctx) };
}
