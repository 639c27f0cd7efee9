/**
 * Writes a generated programme straight through the store port, one unit of work per batch:
 * versions and index rows as a server write would leave them, client codes claimed as pseudonyms
 * and clients enrolled where they are served. HTTP is skipped on purpose: at a million resources
 * it would measure the API, not the data. Write rules do not run, so the generator itself writes
 * what they would derive (the HIV care episode).
 */
import { withSensitivityLabels } from '../consent/labels';
import { CONSENT_STAMP } from '../consent/lookup';
import { focusLabels } from '../consent/module';
import type { Store, StoreTx } from '../store/port';
import { type ClientFacts, type SeedOptions, generateProgramme } from './generate';
import type { SeedItem } from './fhir';
import { seededClientCode } from './prng';

export interface SeedReport {
  resources: number;
  clients: number;
  byType: Record<string, number>;
  seconds: number;
  facts: ClientFacts[];
}

async function writeItem(tx: StoreTx, item: SeedItem, seed: number, k: number): Promise<void> {
  const { resource, custodian, patient } = item;
  if (resource.resourceType === 'Patient' && item.clientCode) {
    // A code already bound (by an earlier run or a real registration) is redrawn, never shared.
    let code = item.clientCode;
    for (let attempt = 1; !(await tx.claimPseudonym('client-code', code, resource.id)); attempt++) {
      if (attempt > 8) throw new Error('could not draw a free client code');
      code = seededClientCode(seed, k, attempt);
      resource.identifier = [{ ...resource.identifier![0]!, value: code }];
    }
    item.clientCode = code;
  }
  // Straight to the store, past the write rules: apply the one that protects consent decisions.
  // A referral Task also takes its ServiceRequest's labels (written before it in the same batch).
  await tx.put(withSensitivityLabels(resource, await focusLabels(tx, resource)), { custodian, patient, method: 'POST' });
  // As the consent write rule does: a running server rebuilds its cached consent grants.
  if (resource.resourceType === 'Consent') await tx.touch(CONSENT_STAMP);
  for (const org of item.enrol ?? []) await tx.enrol(resource.id, org);
}

/** Generates and writes the programme; `keepFacts` keeps every client's facts in the report (tests). */
export async function seedStore(store: Store, opts: SeedOptions, options: { keepFacts?: boolean; onBatch?: (clients: number, resources: number) => void } = {}): Promise<SeedReport> {
  const started = process.hrtime.bigint();
  const report: SeedReport = { resources: 0, clients: 0, byType: {}, seconds: 0, facts: [] };
  for (const batch of generateProgramme(opts)) {
    const first = report.clients;
    await store.unitOfWork(async (tx) => {
      let k = first;
      for (const item of batch.items) {
        if (item.resource.resourceType === 'Patient') k++;
        await writeItem(tx, item, opts.seed, k - 1);
      }
    });
    report.clients += batch.facts.length;
    report.resources += batch.items.length;
    for (const { resource } of batch.items) report.byType[resource.resourceType] = (report.byType[resource.resourceType] ?? 0) + 1;
    if (options.keepFacts) report.facts.push(...batch.facts);
    options.onBatch?.(report.clients, report.resources);
  }
  report.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return report;
}
