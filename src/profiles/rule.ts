/**
 * The write rule that applies the project's profiles: every `meta.profile` of the project
 * (https://linkcare.example.org/fhir/StructureDefinition/…) must be known and the resource must
 * conform, else 422 with one issue per problem, each with a FHIRPath `expression`
 * (http://hl7.org/fhir/R4/http.html#update: 422 for profile violations). Profiles of other
 * publishers are claims this server cannot check; they are stored as given and not enforced.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { invalid, issue } from '../fhir/outcome';
import type { WriteRule } from '../fhir/rules';
import { PROFILE_PREFIX, type ProfileRegistry, profileRegistry } from './registry';

const CONTAINS_MESSAGE = 'must contain at least 1 valid item(s)';
const FALSE_SCHEMA_MESSAGE = 'boolean schema is false';

/** The project profile URLs the resource claims, with their index in meta.profile. */
export function projectProfiles(resource: Resource): [string, number][] {
  const list = resource.meta?.profile ?? [];
  return list.map((url, i): [string, number] => [url, i]).filter(([url]) => url.startsWith(PROFILE_PREFIX));
}

/** Element path without indexes or the resource type: `Observation.component[0].code` → `component.code`. */
function elementPath(expression: string): string {
  return expression.replace(/\[\d+]/g, '').split('.').slice(1).join('.');
}

/** Rewrites ajv's terse messages into what the profile asked for. */
function explain(item: OperationOutcomeIssue, url: string, registry: ProfileRegistry): OperationOutcomeIssue {
  const diagnostics = item.diagnostics ?? '';
  const expression = item.expression?.[0];
  if (diagnostics.startsWith(CONTAINS_MESSAGE) && expression) {
    const wanted = registry.containsHints.get(url)?.get(elementPath(expression));
    if (wanted) return { ...item, code: 'required', diagnostics: `${expression} must contain ${wanted} (profile ${url})` };
  }
  if (diagnostics.startsWith(FALSE_SCHEMA_MESSAGE)) return { ...item, code: 'structure', diagnostics: `Element not allowed by the profile ${url}` };
  return item;
}

/** The issues of a resource against the project profiles it names (empty when it conforms). */
export async function profileIssues(resource: Resource): Promise<OperationOutcomeIssue[]> {
  const claimed = projectProfiles(resource);
  if (!claimed.length) return [];
  const registry = await profileRegistry();
  const issues: OperationOutcomeIssue[] = [];
  for (const [url, i] of claimed) {
    if (!registry.names.has(url)) {
      issues.push(issue('not-supported', `Unknown profile ${url}: this server defines ${[...registry.names.values()].join(', ')}`, `${resource.resourceType}.meta.profile[${i}]`));
    }
  }
  if (issues.length) return issues;
  // The resource is already base-valid, so every issue here comes from a profile.
  for (const item of registry.validator.validate(resource)) {
    const url = claimed.find(([u]) => item.diagnostics?.includes(`(profile ${u})`))?.[0] ?? claimed[0]![0];
    issues.push(explain(item, url, registry));
  }
  return issues;
}

/** WriteRule: refuses (422) a resource that names an unknown project profile or breaks one. */
export const profileRule: WriteRule = {
  name: 'profiles',
  async before(_ctx, _tx, event) {
    if (!event.resource) return;
    const issues = await profileIssues(event.resource);
    if (issues.length) throw invalid(issues, 422);
  },
};
