/**
 * Builds (or reuses) the benchmark database: generated resources written straight through the
 * store port with indexing on, in units of work of about 1000, exactly as a server write would
 * leave them (versions, index rows, enrolment, client-code pseudonym). HTTP is skipped because
 * at a million resources it would measure the API, not the index.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import type { StoreTx } from '../../src/store/port';
import { createIndexer } from '../../src/search/indexer';
import { loadSearchRegistry } from '../../src/search/registry';
import { createResourceValidator } from '../../src/fhir/validation/validator';
import { piiIssues } from '../../src/privacy/pii-guard';
import { GENERATOR_VERSION, type Item, generate, plannedCounts } from './generate';

export const DATA_DIR = resolve(__dirname, '..', '.data');
export const BASE_URL = 'http://localhost:8080/fhir';
const CUSTODIAN = 'org-1';

/** What the build of a cached database measured; kept next to it so reruns can still report it. */
export interface BuildInfo {
  generator: number;
  resources: number;
  seed: number;
  builtAt: string;
  seconds: number;
  /** Resources per second over the whole load: generation, JSON, index extraction and commits. */
  rate: number;
  counts: Record<string, number>;
}

export interface Dataset {
  file: string;
  info: BuildInfo;
  /** False when an existing file was reused. */
  built: boolean;
}

export function dataFile(n: number, seed: number): string {
  return join(DATA_DIR, `search-g${GENERATOR_VERSION}-n${n}-s${seed}.sqlite`);
}

/** Total bytes on disk: the main file plus whatever WAL and shared-memory files exist. */
export function diskBytes(file: string): number {
  return ['', '-wal', '-shm'].reduce((sum, s) => sum + (existsSync(file + s) ? statSync(file + s).size : 0), 0);
}

function reusable(file: string, n: number, seed: number): BuildInfo | undefined {
  const sidecar = `${file}.json`;
  if (!existsSync(file) || !existsSync(sidecar)) return undefined;
  const info = JSON.parse(readFileSync(sidecar, 'utf8')) as BuildInfo;
  if (info.generator !== GENERATOR_VERSION || info.resources !== n || info.seed !== seed) return undefined;
  // The sidecar is written last, but a file copied or half-rebuilt by hand must still be caught.
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const { c } = db.prepare('SELECT COUNT(*) AS c FROM resources WHERE deleted = 0').get() as { c: number };
    return c === n ? info : undefined;
  } finally {
    db.close();
  }
}

/**
 * Runs the server's structural validator and PII guard over the first resources of each type, so
 * a generator change that would be refused by the API fails here before minutes of loading.
 */
export function validateSample(n: number, seed: number, perType = 50): number {
  const validator = createResourceValidator();
  const seen = new Map<string, number>();
  let checked = 0;
  for (const block of generate(n, seed)) {
    for (const { resource } of block) {
      const type = resource.resourceType;
      if ((seen.get(type) ?? 0) >= perType) continue;
      seen.set(type, (seen.get(type) ?? 0) + 1);
      const issues = [...validator.validate(resource), ...piiIssues(resource as Resource, { allowBirthMonth: false })];
      if (issues.length) {
        throw new Error(`generated ${type} is not accepted by the server: ${JSON.stringify(issues.slice(0, 3))}`);
      }
      checked++;
    }
    if (seen.size >= 8 && [...seen.values()].every((c) => c >= perType)) break;
  }
  return checked;
}

async function build(file: string, n: number, seed: number, log: (s: string) => void): Promise<BuildInfo> {
  for (const s of ['', '-wal', '-shm', '.json']) rmSync(file + s, { force: true });
  mkdirSync(DATA_DIR, { recursive: true });
  const store = openSqliteStore(file, { indexer: createIndexer(loadSearchRegistry(), BASE_URL) });
  const counts: Record<string, number> = {};
  const started = process.hrtime.bigint();
  let done = 0;
  let nextReport = 0;
  try {
    for (const block of generate(n, seed)) {
      await store.unitOfWork(async (tx) => {
        for (const item of block) await write(tx, item);
      });
      for (const { resource } of block) counts[resource.resourceType] = (counts[resource.resourceType] ?? 0) + 1;
      done += block.length;
      if (done >= nextReport) {
        const secs = Number(process.hrtime.bigint() - started) / 1e9;
        log(`  loaded ${done.toLocaleString('en')} / ${n.toLocaleString('en')} (${Math.round(done / secs)} resources/s)`);
        nextReport += Math.max(10_000, Math.round(n / 20));
      }
    }
    // Fold the WAL in, so the reported size is the database's and not a checkpoint backlog.
    await store.purge();
  } finally {
    await store.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const planned = plannedCounts(n);
  for (const [type, c] of Object.entries(planned)) {
    if (counts[type] !== c) throw new Error(`generator wrote ${counts[type]} ${type}, planned ${c}`);
  }
  const info: BuildInfo = { generator: GENERATOR_VERSION, resources: n, seed, builtAt: new Date().toISOString(), seconds, rate: n / seconds, counts };
  writeFileSync(`${file}.json`, `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

async function write(tx: StoreTx, { resource, patient, clientCode }: Item): Promise<void> {
  await tx.put(resource, { custodian: CUSTODIAN, patient, method: 'POST' });
  if (resource.resourceType !== 'Patient') return;
  // Registration also binds the client code and enrols the client where it registered.
  if (clientCode && !(await tx.claimPseudonym('client-code', clientCode, resource.id))) {
    throw new Error(`client code ${clientCode} drawn twice; change --seed`);
  }
  await tx.enrol(resource.id, CUSTODIAN);
}

/** The database for (n, seed): reused when a complete one exists, built otherwise or when `fresh`. */
export async function ensureDataset(n: number, seed: number, fresh: boolean, log: (s: string) => void): Promise<Dataset> {
  const file = dataFile(n, seed);
  const existing = fresh ? undefined : reusable(file, n, seed);
  if (existing) {
    log(`reusing ${file} (built ${existing.builtAt} at ${Math.round(existing.rate)} resources/s)`);
    return { file, info: existing, built: false };
  }
  log(`validating a sample of generated resources with the server's validator and PII guard…`);
  log(`  ${validateSample(n, seed)} resources accepted`);
  log(`building ${file} with ${n.toLocaleString('en')} resources (seed ${seed})…`);
  const info = await build(file, n, seed, log);
  log(`built in ${info.seconds.toFixed(1)} s: ${Math.round(info.rate)} resources/s`);
  return { file, info, built: true };
}
