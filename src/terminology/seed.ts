/**
 * Start-up seeding of the catalog (CodeSystems, ValueSets, Questionnaires) into the store as shared
 * knowledge (no custodian). Idempotent: a resource whose stored content equals its file is left
 * alone, so restarts write no new versions; a changed file writes one new version.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { StoreTx } from '../store/port';
import type { Catalog } from './catalog';

/** JSON with object keys sorted, so that key order does not count as a change. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The content that counts for "unchanged": everything except the server's meta. */
function content(resource: Resource): string {
  const { meta: _meta, ...rest } = resource;
  return canonicalJson(rest);
}

/** Writes every catalog resource whose stored version differs; returns how many were written. */
export async function seedCatalog(tx: StoreTx, catalog: Catalog): Promise<number> {
  let written = 0;
  for (const resource of catalog.resources) {
    const current = await tx.read(resource.resourceType, resource.id);
    if (current && !current.deleted && current.resource && content(current.resource) === content(resource)) continue;
    await tx.put(structuredClone(resource));
    written += 1;
  }
  return written;
}
