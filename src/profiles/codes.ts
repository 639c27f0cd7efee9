/**
 * The project's own codes, on every write with or without a profile: a Coding whose system is one
 * of the project's complete CodeSystems (schemas/terminology) must use a code that system defines.
 * A typo in a project code would otherwise be stored silently and never found by searches or
 * reports. Systems of other publishers, and project system URLs without a CodeSystem file, are not
 * checked here.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { invalid, issue } from '../fhir/outcome';
import type { WriteRule } from '../fhir/rules';
import { type Catalog, PROJECT_CODE_SYSTEM_PREFIX, conceptIndex, loadCatalog } from '../terminology/catalog';

type CodeIndex = Map<string, Set<string>>;

let cachedIndex: CodeIndex | undefined;

/** System URL → its codes, for the project's complete CodeSystems. */
export function projectCodeIndex(catalog: Catalog = loadCatalog()): CodeIndex {
  const index: CodeIndex = new Map();
  for (const [url, cs] of catalog.codeSystems) {
    if (url.startsWith(PROJECT_CODE_SYSTEM_PREFIX) && cs.content === 'complete') index.set(url, new Set(conceptIndex(cs).keys()));
  }
  return index;
}

const segment = (name: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `.${name}` : `.\`${name}\``);

/** One issue per coding that names a project system with a code it does not define. */
export function projectCodeIssues(resource: Resource, index: CodeIndex = (cachedIndex ??= projectCodeIndex())): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`));
      return;
    }
    if (!value || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    const codes = typeof record.system === 'string' ? index.get(record.system) : undefined;
    if (codes && typeof record.code === 'string' && !codes.has(record.code)) {
      issues.push(issue('code-invalid', `Unknown code '${record.code}' in the project code system ${record.system as string}`, `${path}.code`));
    }
    for (const [k, v] of Object.entries(record)) walk(v, `${path}${segment(k)}`);
  };
  walk(resource, resource.resourceType);
  return issues;
}

/** WriteRule: refuses (422) project codes that their CodeSystem does not define. */
export const projectCodesRule: WriteRule = {
  name: 'project-codes',
  async before(_ctx, _tx, event) {
    if (!event.resource) return;
    const issues = projectCodeIssues(event.resource);
    if (issues.length) throw invalid(issues, 422);
  },
};
