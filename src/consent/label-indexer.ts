/**
 * The indexer of `npm run reindex` and `npm run migrate`: search indexing with the sensitivity
 * labels derived again at index time, so `_security` searches (and the consent filters built on
 * them) see labels a newer table adds to resources written before it. The server's own writes
 * need no second derivation: the `sensitivity-labels` write rule has put them in meta.security.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { IndexRows } from '../search/index-rows';
import { createIndexer } from '../search/indexer';
import type { SearchRegistry } from '../search/registry';
import { withSensitivityLabels } from './labels';

/**
 * createIndexer with `withSensitivityLabels` applied to each resource before it is indexed.
 * AuditEvents are left as they are: they carry no clinical codes, and one is indexed per request.
 */
export function labelledIndexer(registry: SearchRegistry, baseUrl: string): (resource: Resource) => IndexRows {
  return createIndexer(registry, baseUrl, (resource) => (resource.resourceType === 'AuditEvent' ? resource : withSensitivityLabels(resource)));
}
