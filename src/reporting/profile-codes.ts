/**
 * The codes of the project's own profiles, read from the ValueSets and CodeSystems they validate
 * against (schemas/terminology, the files src/profiles/registry.ts compiles), so an indicator counts
 * what a conforming record carries and cannot drift from the profiles when a value set changes.
 * Read synchronously at load: the value sets the indicators use are enumerations or whole complete
 * code systems; anything else (filters, included value sets) throws, so a change this cannot follow
 * stops start-up and the tests rather than quietly counting nothing.
 */
import { PROJECT_BASE, PROJECT_CODE_SYSTEM_PREFIX, conceptIndex, loadCatalog } from '../terminology/catalog';
import type { Code } from './query';

/** Every code of the project ValueSet `id` (schemas/terminology/<id>.valueset.json). */
export function valueSetCodes(id: string): Code[] {
  const catalog = loadCatalog();
  const url = `${PROJECT_BASE}/ValueSet/${id}`;
  const vs = catalog.valueSets.get(url);
  if (!vs?.compose?.include?.length || vs.compose.exclude?.length) throw new Error(`reporting: ValueSet ${url} is missing or not a plain enumeration`);
  return vs.compose.include.flatMap((inc) => {
    if (!inc.system || inc.filter?.length || inc.valueSet?.length) throw new Error(`reporting: ValueSet ${url} uses filters or other value sets`);
    const system = inc.system;
    if (inc.concept?.length) return inc.concept.map((c) => ({ system, code: c.code }));
    const cs = catalog.codeSystems.get(system);
    if (cs?.content !== 'complete') throw new Error(`reporting: ValueSet ${url} includes ${system}, which is not a complete CodeSystem here`);
    return [...conceptIndex(cs).keys()].map((code) => ({ system, code }));
  });
}

/** Codes of the project CodeSystem `id`, each checked to exist there (a typo would count nothing). */
export function projectCodes(id: string, ...codes: string[]): Code[] {
  const system = `${PROJECT_CODE_SYSTEM_PREFIX}${id}`;
  const cs = loadCatalog().codeSystems.get(system);
  const known = cs ? conceptIndex(cs) : new Map();
  for (const code of codes) if (!known.has(code)) throw new Error(`reporting: ${system} has no code ${code}`);
  return codes.map((code) => ({ system, code }));
}

/** The codes of `a` that are not in `b`. */
export function without(a: readonly Code[], b: readonly Code[]): Code[] {
  const drop = new Set(b.map((c) => `${c.system}|${c.code}`));
  return a.filter((c) => !drop.has(`${c.system}|${c.code}`));
}
