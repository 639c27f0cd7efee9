/** Loads fixtures/reporting/*.json (records with their custodian) straight into a store or a test app. */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import type { Store } from '../../src/store/port';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { createIndexer } from '../../src/search/indexer';
import { loadSearchRegistry } from '../../src/search/registry';
import { type TestApp, startTestApp } from '../helpers/app';

export interface FixtureRecord {
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
  return loadRecords(store, doc.records);
}

/** A test app, once ready, with the named fixture loaded; closed again if the loading fails. */
export async function startFixtureApp(name: string, env: Record<string, string> = {}): Promise<TestApp> {
  const t = startTestApp(env);
  try {
    await t.linkcare.ready;
    await loadFixture(t.store, name);
    return t;
  } catch (err) {
    await t.close();
    throw err;
  }
}

/** Writes the records as they are (no write rules); Patients are enrolled at their custodian. */
export async function loadRecords(store: Store, records: readonly FixtureRecord[]): Promise<number> {
  await store.unitOfWork(async (tx) => {
    for (const { custodian, resource } of records) {
      const patient = patientOf(resource as unknown as Record<string, unknown>);
      await tx.put(resource, { ...(custodian ? { custodian } : {}), ...(patient ? { patient } : {}), method: 'PUT' });
      if (resource.resourceType === 'Patient' && custodian) await tx.enrol(resource.id, custodian);
    }
  });
  return records.length;
}

/** The named fixture in an embedded store file, opened read-only as the indicator SQL reads it; `close` deletes it. */
export async function fixtureDatabase(name: string): Promise<{ db: Database.Database; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'linkcare-report-'));
  const file = join(dir, 'store.sqlite');
  const store = openSqliteStore(file, { indexer: createIndexer(loadSearchRegistry(), 'http://localhost/fhir') });
  await loadFixture(store, name);
  await store.close();
  const db = new Database(file, { readonly: true });
  return {
    db,
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
