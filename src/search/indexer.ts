/** Builds the function stores call to index a resource at write time. */
import type { Resource } from '@medplum/fhirtypes';
import type { IndexRows } from './index-rows';
import type { SearchRegistry } from './registry';
import { extractIndexRows } from './extract';

/** An indexer over every registered parameter of the resource's type. */
export function createIndexer(registry: SearchRegistry, baseUrl: string): (resource: Resource) => IndexRows {
  return (resource) => extractIndexRows(resource, registry.forType(resource.resourceType), { baseUrl });
}
