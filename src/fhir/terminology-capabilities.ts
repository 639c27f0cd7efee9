/**
 * The TerminologyCapabilities statement (http://hl7.org/fhir/R4/terminologycapabilities.html),
 * answered by `GET [base]/metadata?mode=terminology` (http://hl7.org/fhir/R4/http.html#capabilities).
 * Built from what the server really has: the CodeSystems in its store (the seeded catalog and any
 * written since) and the terminology operations in the operation registry, so it says nothing
 * a module did not register.
 */
import type {
  CodeSystem,
  OperationDefinition,
  TerminologyCapabilities,
  TerminologyCapabilitiesCodeSystem,
  TerminologyCapabilitiesExpansion,
  TerminologyCapabilitiesImplementation,
  TerminologyCapabilitiesSoftware,
} from '@medplum/fhirtypes';
import type { FhirContext } from './context';
import type { SearchPlan } from '../search/plan';

/** Who answers: the same software and implementation the CapabilityStatement names. */
export interface ServerIdentity {
  software: TerminologyCapabilitiesSoftware;
  implementation: TerminologyCapabilitiesImplementation;
}

const PAGE = 100;

/**
 * One entry per distinct CodeSystem url (invariant tcp-6), with every stored version. Newest first,
 * so the default version is the one an operation given the url alone uses (the newest stored).
 */
async function codeSystems(ctx: FhirContext): Promise<TerminologyCapabilitiesCodeSystem[]> {
  const byUri = new Map<string, TerminologyCapabilitiesCodeSystem>();
  let cursor: string | undefined;
  do {
    const plan: SearchPlan = { types: ['CodeSystem'], where: [], sort: [{ param: '_lastUpdated', descending: true }], count: PAGE, cursor, total: 'none' };
    const page = await ctx.store.search(plan);
    for (const match of page.matches) {
      const cs = match.resource as CodeSystem | undefined;
      // A CodeSystem without a url cannot be named by a client, so it is not offered.
      if (match.deleted || !cs?.url) continue;
      const newest = !byUri.has(cs.url);
      const entry = byUri.get(cs.url) ?? { uri: cs.url };
      byUri.set(cs.url, entry);
      if (!cs.version) continue;
      const versions = (entry.version ??= []);
      if (!versions.some((v) => v.code === cs.version)) versions.push({ code: cs.version, ...(newest ? { isDefault: true } : {}) });
    }
    cursor = page.nextCursor;
  } while (cursor);
  return [...byUri.values()].sort((a, b) => a.uri!.localeCompare(b.uri!));
}

const inputs = (def: OperationDefinition) => (def.parameter ?? []).filter((p) => p.use === 'in');

/** What ValueSet/$expand takes, read off its OperationDefinition. */
function expansion(def: OperationDefinition): TerminologyCapabilitiesExpansion {
  const params = inputs(def);
  const names = new Set(params.map((p) => p.name));
  const filter = params.find((p) => p.name === 'filter');
  return {
    paging: names.has('count') && names.has('offset'),
    parameter: params.map((p) => ({ name: p.name!, ...(p.documentation ? { documentation: p.documentation } : {}) })),
    ...(filter?.documentation ? { textFilter: filter.documentation } : {}),
  };
}

/**
 * How long an answer is reused. `metadata` needs no login, and building the answer pages through
 * every stored CodeSystem: a flood of anonymous requests must not each cost a scan. A CodeSystem
 * written since shows within this time.
 */
export const TERMINOLOGY_CAPABILITIES_TTL_MS = 60_000;

const answered = new WeakMap<FhirContext, { at: number; body: Promise<TerminologyCapabilities> }>();

/** The server's TerminologyCapabilities, built at most once a TTL per server. */
export function terminologyCapabilities(ctx: FhirContext, identity: ServerIdentity, now = Date.now()): Promise<TerminologyCapabilities> {
  const cached = answered.get(ctx);
  if (cached && now - cached.at < TERMINOLOGY_CAPABILITIES_TTL_MS) return cached.body;
  const body = build(ctx, identity);
  answered.set(ctx, { at: now, body });
  // A failed build is not kept: the next request tries again.
  body.catch(() => answered.delete(ctx));
  return body;
}

async function build(ctx: FhirContext, identity: ServerIdentity): Promise<TerminologyCapabilities> {
  const expand = ctx.operations.find('expand', { type: 'ValueSet' });
  const validates = ctx.operations.find('validate-code', { type: 'CodeSystem' }) ?? ctx.operations.find('validate-code', { type: 'ValueSet' });
  return {
    resourceType: 'TerminologyCapabilities',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: identity.software,
    implementation: identity.implementation,
    codeSystem: await codeSystems(ctx),
    ...(expand ? { expansion: expansion(expand.definition) } : {}),
    // $validate-code checks codes as given: this server has no ConceptMaps, so it never translates.
    ...(validates ? { validateCode: { translations: false } } : {}),
    // No `translation` and no `closure`: neither $translate nor $closure is implemented.
  };
}
