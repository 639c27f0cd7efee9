/** Loads fixtures/reporting/*.json (records with their custodian) straight into a store. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import type { Store } from '../../src/store/port';

interface FixtureRecord {
  custodian: string | null;
  resource: Resource & { id: string };
}

/** The client a record is about, from the reference the Patient compartment uses. */
function patientOf(r: Record<string, unknown>): string | undefined {
  if (r.resourceType === 'Patient') return r.id as string;
  for (const k of ['subject', 'patient', 'for']) {
    const ref = (r[k] as { reference?: string } | undefined)?.reference;
    if (ref?.startsWith('Patient/')) return ref.slice('Patient/'.length);
  }
  return undefined;
}

/** Writes every record of the named fixture; Patients are enrolled at their custodian. */
export async function loadFixture(store: Store, name: string): Promise<number> {
  const doc = JSON.parse(readFileSync(join(__dirname, '../../fixtures/reporting', `${name}.json`), 'utf8')) as { records: FixtureRecord[] };
  await store.unitOfWork(async (tx) => {
    for (const { custodian, resource } of doc.records) {
      const patient = patientOf(resource as unknown as Record<string, unknown>);
      await tx.put(resource, { ...(custodian ? { custodian } : {}), ...(patient ? { patient } : {}), method: 'PUT' });
      if (resource.resourceType === 'Patient' && custodian) await tx.enrol(resource.id, custodian);
    }
  });
  return doc.records.length;
}
