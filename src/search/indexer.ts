/** Builds the function stores call to index a resource at write time. */
import type { Resource } from '@medplum/fhirtypes';
import type { IndexRows } from './index-rows';
import type { SearchRegistry } from './registry';
import { extractIndexRows } from './extract';

/**
 * An indexer over every registered parameter of the resource's type. `derive` completes what the
 * stored resource may lack before it is indexed (the consent module passes its sensitivity
 * labels, so `_security` follows today's label table after `npm run reindex`, not the one the
 * resource was written under).
 */
export function createIndexer(registry: SearchRegistry, baseUrl: string, derive?: (resource: Resource) => Resource): (resource: Resource) => IndexRows {
  return (resource) => extractIndexRows(derive ? derive(resource) : resource, registry.forType(resource.resourceType), { baseUrl });
}
