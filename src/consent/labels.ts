/**
 * Data categories a Consent can permit or deny, as HL7 sensitivity labels in `meta.security`
 * (http://terminology.hl7.org/CodeSystem/v3-ActCode, the _InformationSensitivityPolicy codes:
 * HIV, STD, PSY, SDV, ETH). Resources are labelled on write from the table in
 * schemas/consent/sensitivity-labels.json, so searches can filter on `_security` and consent
 * decisions need nothing but the resource.
 *
 * A table code labels a resource wherever it occurs in it — `code`, but also `reasonCode`, a
 * `valueCodeableConcept`, `evidence.code`, `activity.detail.code`, a component, an answer, an
 * extension or a contained resource: a referral for ART initiation, or an encounter whose reason
 * is HIV infection, is HIV information as much as the test result is (security review). Only
 * `meta` is skipped (its labels and tags are about the resource, not its content), and directory
 * resources (organisations, services, staff, places) and definitions (code systems, questionnaires,
 * measures…) get no code-derived label: they describe what is offered, never a client, and every
 * organisation reads them whatever their labels.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { projectRoot } from '../project-root';

export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/** The categories of the consent form and their label codes. */
export const SENSITIVITY_LABELS = {
  HIV: 'HIV/AIDS information',
  STD: 'sexually transmitted disease information',
  PSY: 'psychiatry (mental health) information',
  SDV: 'sexual assault, abuse or domestic violence information',
  ETH: 'substance abuse (alcohol and drug use) information',
} as const;

export type SensitivityLabel = keyof typeof SENSITIVITY_LABELS;

/** Types that never describe a client: no label is derived from their codes. */
const NOT_ABOUT_A_CLIENT: ReadonlySet<string> = new Set([
  'Organization', 'Location', 'HealthcareService', 'Practitioner', 'PractitionerRole',
  'CodeSystem', 'ValueSet', 'Questionnaire', 'Measure', 'SearchParameter', 'OperationDefinition',
]);

interface LabelRule {
  label: SensitivityLabel;
  /** Resource types the rule applies to; absent = any. */
  types?: string[];
  /** Profiles (canonical URLs, or their last path segment) that carry the label. */
  profiles?: string[];
  /** `system|code` of a coding anywhere in the resource outside `meta` (see the module comment). */
  codes?: string[];
  /** Questionnaire canonical (or its last segment) of a QuestionnaireResponse. */
  questionnaires?: string[];
}

/** A rule with its codes as a set (a resource has a few codings, a rule up to dozens of codes). */
type CompiledRule = LabelRule & { codeSet?: ReadonlySet<string> };

let rules: CompiledRule[] | undefined;

function loadRules(): CompiledRule[] {
  const file = join(projectRoot(), 'schemas', 'consent', 'sensitivity-labels.json');
  const table = JSON.parse(readFileSync(file, 'utf8')) as { rules: LabelRule[] };
  return table.rules.map((r) => (r.codes ? { ...r, codeSet: new Set(r.codes) } : r));
}

function lastSegment(url: string): string {
  return url.split('|')[0]!.split('/').pop()!;
}

/**
 * `system|code` of every coding in the resource: every object with a string `code` (a Coding,
 * whether in a CodeableConcept or alone, e.g. `valueCoding`, `Encounter.class`), at any depth,
 * except under `meta`. Iterative, so deeply nested items cannot exhaust the stack. Objects that
 * merely look like a coding (a Quantity's UCUM unit) never match the table's systems.
 */
function codingKeysOf(resource: Resource): Set<string> {
  const out = new Set<string>();
  if (NOT_ABOUT_A_CLIENT.has(resource.resourceType)) return out;
  const stack: unknown[] = [resource];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const item of node) if (item && typeof item === 'object') stack.push(item);
      continue;
    }
    const obj = node as Record<string, unknown>;
    if (typeof obj.code === 'string') out.add(`${typeof obj.system === 'string' ? obj.system : ''}|${obj.code}`);
    for (const key in obj) {
      const value = obj[key];
      if (value && typeof value === 'object' && key !== 'meta') stack.push(value);
    }
  }
  return out;
}

function matches(rule: CompiledRule, resource: Resource, codings: () => Set<string>): boolean {
  if (rule.types && !rule.types.includes(resource.resourceType)) return false;
  const profiles = (resource.meta?.profile ?? []).flatMap((p) => [p, lastSegment(p)]);
  if (rule.profiles?.some((p) => profiles.includes(p))) return true;
  if (rule.codeSet) {
    for (const c of codings()) if (rule.codeSet.has(c)) return true;
  }
  const q = (resource as { questionnaire?: string }).questionnaire;
  if (q && rule.questionnaires?.some((x) => x === q || x === lastSegment(q))) return true;
  return !rule.profiles && !rule.codes && !rule.questionnaires && !!rule.types;
}

/** The sensitivity labels in a resource's `meta.security`, as stored (a written resource has its derived ones there). */
export function storedLabels(resource: Resource): Set<SensitivityLabel> {
  const found = new Set<SensitivityLabel>();
  for (const s of resource.meta?.security ?? []) {
    if (s.system === ACT_CODE && s.code && s.code in SENSITIVITY_LABELS) found.add(s.code as SensitivityLabel);
  }
  return found;
}

/** The sensitivity labels a resource carries: its own `meta.security` ones and those the table derives. */
export function sensitivityOf(resource: Resource): SensitivityLabel[] {
  const found = storedLabels(resource);
  let codings: Set<string> | undefined;
  const lazyCodings = (): Set<string> => (codings ??= codingKeysOf(resource));
  for (const rule of (rules ??= loadRules())) if (matches(rule, resource, lazyCodings)) found.add(rule.label);
  return [...found].sort();
}

/**
 * The resource with every derived label present in `meta.security` (so `_security` finds it),
 * plus `inherited` ones (e.g. a referral Task takes those of the ServiceRequest it is about).
 */
export function withSensitivityLabels<T extends Resource>(resource: T, inherited: readonly SensitivityLabel[] = []): T {
  const labels = new Set([...sensitivityOf(resource), ...inherited]);
  const security = [...(resource.meta?.security ?? [])];
  for (const label of [...labels].sort()) {
    if (!security.some((s) => s.system === ACT_CODE && s.code === label)) {
      security.push({ system: ACT_CODE, code: label, display: SENSITIVITY_LABELS[label] });
    }
  }
  if (security.length === (resource.meta?.security ?? []).length) return resource;
  return { ...resource, meta: { ...resource.meta, security } };
}
