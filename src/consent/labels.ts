/**
 * Data categories a Consent can permit or deny, as HL7 sensitivity labels in `meta.security`
 * (http://terminology.hl7.org/CodeSystem/v3-ActCode, the _InformationSensitivityPolicy codes:
 * HIV, STD, PSY, SDV, ETH). Resources are labelled on write from the table in
 * schemas/consent/sensitivity-labels.json, so searches can filter on `_security` and consent
 * decisions need nothing but the resource.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Coding, Resource } from '@medplum/fhirtypes';
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

interface LabelRule {
  label: SensitivityLabel;
  /** Resource types the rule applies to; absent = any. */
  types?: string[];
  /** Profiles (canonical URLs, or their last path segment) that carry the label. */
  profiles?: string[];
  /** `system|code` of a coding anywhere in `code`, `category`, `vaccineCode`, `medicationCodeableConcept` or `type`. */
  codes?: string[];
  /** Questionnaire canonical (or its last segment) of a QuestionnaireResponse. */
  questionnaires?: string[];
}

let rules: LabelRule[] | undefined;

function loadRules(): LabelRule[] {
  const file = join(projectRoot(), 'schemas', 'consent', 'sensitivity-labels.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { rules: LabelRule[] }).rules;
}

function lastSegment(url: string): string {
  return url.split('|')[0]!.split('/').pop()!;
}

function codingsOf(resource: Resource): Coding[] {
  const r = resource as unknown as Record<string, unknown>;
  const out: Coding[] = [];
  for (const key of ['code', 'category', 'vaccineCode', 'medicationCodeableConcept', 'type']) {
    const value = r[key];
    for (const concept of Array.isArray(value) ? value : value ? [value] : []) {
      const codings = (concept as { coding?: Coding[] }).coding;
      if (Array.isArray(codings)) out.push(...codings);
    }
  }
  return out;
}

function matches(rule: LabelRule, resource: Resource): boolean {
  if (rule.types && !rule.types.includes(resource.resourceType)) return false;
  const profiles = (resource.meta?.profile ?? []).flatMap((p) => [p, lastSegment(p)]);
  if (rule.profiles?.some((p) => profiles.includes(p))) return true;
  if (rule.codes) {
    const have = new Set(codingsOf(resource).map((c) => `${c.system ?? ''}|${c.code ?? ''}`));
    if (rule.codes.some((c) => have.has(c))) return true;
  }
  const q = (resource as { questionnaire?: string }).questionnaire;
  if (q && rule.questionnaires?.some((x) => x === q || x === lastSegment(q))) return true;
  return !rule.profiles && !rule.codes && !rule.questionnaires && !!rule.types;
}

/** The sensitivity labels a resource carries: its own `meta.security` ones and those the table derives. */
export function sensitivityOf(resource: Resource): SensitivityLabel[] {
  const found = new Set<SensitivityLabel>();
  for (const s of resource.meta?.security ?? []) {
    if (s.system === ACT_CODE && s.code && s.code in SENSITIVITY_LABELS) found.add(s.code as SensitivityLabel);
  }
  for (const rule of (rules ??= loadRules())) if (matches(rule, resource)) found.add(rule.label);
  return [...found].sort();
}

/** The resource with every derived label present in `meta.security` (so `_security` finds it). */
export function withSensitivityLabels<T extends Resource>(resource: T): T {
  const labels = sensitivityOf(resource);
  const security = [...(resource.meta?.security ?? [])];
  for (const label of labels) {
    if (!security.some((s) => s.system === ACT_CODE && s.code === label)) {
      security.push({ system: ACT_CODE, code: label, display: SENSITIVITY_LABELS[label] });
    }
  }
  if (security.length === (resource.meta?.security ?? []).length) return resource;
  return { ...resource, meta: { ...resource.meta, security } };
}
