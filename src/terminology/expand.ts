/**
 * Expansion of a ValueSet's compose into its codes (http://hl7.org/fhir/R4/valueset.html#compose):
 * enumerated concepts, whole code systems, included value sets (intersected, as the spec says) and
 * exclusions. Property filters need a terminology server and are refused. Pure apart from the
 * resolver, so the profiles (files) and the operations (store) share it.
 */
import type { CodeSystem, ValueSet, ValueSetComposeInclude, ValueSetExpansionContains } from '@medplum/fhirtypes';
import { OperationOutcomeError, issue, outcome } from '../fhir/outcome';
import { conceptIndex } from './catalog';

/** One code of an expansion. */
export interface ExpandedCode {
  system: string;
  code: string;
  display?: string;
  version?: string;
}

/** Finds CodeSystems and ValueSets by canonical URL (with an optional `|version`). */
export interface TerminologyResolver {
  codeSystem(url: string): Promise<CodeSystem | undefined>;
  valueSet(url: string): Promise<ValueSet | undefined>;
}

// Guards against value sets that include each other.
const MAX_DEPTH = 8;

/** 422 with `not-supported`: the value set needs more than this server's enumerations. */
function cannotExpand(url: string | undefined, why: string): OperationOutcomeError {
  return new OperationOutcomeError(422, outcome(issue('not-supported', `ValueSet ${url ?? '(anonymous)'} cannot be expanded here: ${why}`)));
}

const key = (c: { system: string; code: string }): string => `${c.system}|${c.code}`;

async function systemCodes(include: ValueSetComposeInclude, vsUrl: string | undefined, resolver: TerminologyResolver): Promise<ExpandedCode[]> {
  const system = include.system!;
  const cs = await resolver.codeSystem(include.version ? `${system}|${include.version}` : system);
  const concepts = cs ? conceptIndex(cs) : undefined;
  if (include.concept?.length) {
    // Listed concepts need no CodeSystem; when it is known, it supplies missing displays.
    return include.concept.map((c) => ({ system, code: c.code, display: c.display ?? concepts?.get(c.code)?.display, version: include.version }));
  }
  if (!cs || !concepts) throw cannotExpand(vsUrl, `the code system ${system} is not known to this server`);
  if (cs.content !== 'complete') throw cannotExpand(vsUrl, `the code system ${system} is not complete here (content ${cs.content})`);
  return [...concepts.values()].map((c) => ({ system, code: c.code!, display: c.display, version: include.version ?? cs.version }));
}

async function includeCodes(include: ValueSetComposeInclude, vsUrl: string | undefined, resolver: TerminologyResolver, depth: number): Promise<ExpandedCode[]> {
  if (include.filter?.length) throw cannotExpand(vsUrl, 'property filters need a terminology server');
  let codes: ExpandedCode[] | undefined = include.system ? await systemCodes(include, vsUrl, resolver) : undefined;
  for (const url of include.valueSet ?? []) {
    const inner = await resolver.valueSet(url);
    if (!inner) throw cannotExpand(vsUrl, `the included value set ${url} is not known to this server`);
    const innerCodes = await expandCompose(inner, resolver, depth + 1);
    const keep = new Set(innerCodes.map(key));
    codes = codes ? codes.filter((c) => keep.has(key(c))) : innerCodes;
  }
  if (!codes) throw cannotExpand(vsUrl, 'an include names neither a system nor a value set');
  return codes;
}

/** Every code of the value set, in compose order, without duplicates. */
export async function expandCompose(vs: ValueSet, resolver: TerminologyResolver, depth = 0): Promise<ExpandedCode[]> {
  if (depth > MAX_DEPTH) throw cannotExpand(vs.url, `value sets include each other more than ${MAX_DEPTH} levels deep`);
  if (!vs.compose) {
    // A stored expansion stands in for a compose (http://hl7.org/fhir/R4/valueset.html#expansion).
    const out: ExpandedCode[] = [];
    const walk = (items: ValueSetExpansionContains[] | undefined): void => {
      for (const c of items ?? []) {
        if (c.system && c.code && !c.abstract) out.push({ system: c.system, code: c.code, display: c.display, version: c.version });
        walk(c.contains);
      }
    };
    if (!vs.expansion) throw cannotExpand(vs.url, 'it has neither a compose nor an expansion');
    walk(vs.expansion.contains);
    return out;
  }
  const seen = new Map<string, ExpandedCode>();
  for (const inc of vs.compose.include ?? []) {
    for (const c of await includeCodes(inc, vs.url, resolver, depth)) if (!seen.has(key(c))) seen.set(key(c), c);
  }
  for (const exc of vs.compose.exclude ?? []) {
    for (const c of await includeCodes(exc, vs.url, resolver, depth)) seen.delete(key(c));
  }
  return [...seen.values()];
}

/** A resolver over in-memory maps (the files of the catalog). */
export function mapResolver(codeSystems: Map<string, CodeSystem>, valueSets: Map<string, ValueSet>): TerminologyResolver {
  const bare = (url: string): string => url.split('|')[0]!;
  return {
    codeSystem: async (url) => codeSystems.get(bare(url)),
    valueSet: async (url) => valueSets.get(bare(url)),
  };
}
