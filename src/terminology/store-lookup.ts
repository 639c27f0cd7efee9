/**
 * Finding the CodeSystems and ValueSets stored on this server by canonical URL (with an optional
 * `|version`) or by id. They are shared knowledge: every role that may read the type sees them.
 */
import type { CodeSystem, Resource, ValueSet } from '@medplum/fhirtypes';
import type { StoreReader } from '../store/port';
import type { SearchPlan } from '../search/plan';
import type { TerminologyResolver } from './expand';

type KnowledgeType = 'CodeSystem' | 'ValueSet';

/** The current resource of `type` with canonical `url` (newest when several match), or undefined. */
export async function findByUrl<T extends Resource>(store: StoreReader, type: KnowledgeType, canonical: string): Promise<T | undefined> {
  const [url, version] = canonical.split('|');
  const plan: SearchPlan = {
    types: [type],
    where: [
      { kind: 'param', param: { base: type, code: 'url', type: 'uri' }, values: [{ type: 'uri', value: url! }] },
      ...(version ? [{ kind: 'param' as const, param: { base: type, code: 'version', type: 'token' as const }, values: [{ type: 'token' as const, token: { code: version } }] }] : []),
    ],
    sort: [{ param: '_lastUpdated', descending: true }],
    count: 1,
    total: 'none',
  };
  return (await store.search(plan)).matches[0]?.resource as T | undefined;
}

/** The current, not deleted resource `type/id`, or undefined. */
export async function findById<T extends Resource>(store: StoreReader, type: KnowledgeType, id: string): Promise<T | undefined> {
  const v = await store.read(type, id);
  return v && !v.deleted ? (v.resource as T) : undefined;
}

/** A resolver over the stored resources, caching per call (one expansion reads each system once). */
export function storeResolver(store: StoreReader): TerminologyResolver {
  const systems = new Map<string, Promise<CodeSystem | undefined>>();
  const sets = new Map<string, Promise<ValueSet | undefined>>();
  return {
    codeSystem(url) {
      if (!systems.has(url)) systems.set(url, findByUrl<CodeSystem>(store, 'CodeSystem', url));
      return systems.get(url)!;
    },
    valueSet(url) {
      if (!sets.has(url)) sets.set(url, findByUrl<ValueSet>(store, 'ValueSet', url));
      return sets.get(url)!;
    },
  };
}
