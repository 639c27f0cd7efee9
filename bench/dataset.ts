/**
 * The data set the bench measures against: a programme from the seed generator (src/seed,
 * docs/seed.md), built once per (clients, seed) into bench/.data/c<N>-s<S>/ and reused, and a
 * fresh working copy of it per run so that the writes of one run do not shape the next.
 */
import { spawn } from 'node:child_process';
import { constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_AS_OF } from '../src/seed/generate';
import { ROOT, log } from './server';

export const DATA_ROOT = join(ROOT, 'bench', '.data');
const DB_FILE = 'linkcare.sqlite';

/** How the cached data set was built (bench/.data/c<N>-s<S>/seed.json). */
export interface SeedInfo {
  clients: number;
  seed: number;
  resources: number;
  seconds: number;
  resourcesPerSecond: number;
  builtAt: string;
  /** The exact command, for the report. */
  command: string;
}

/** Ids drawn from the data so every scenario asks about data that exists and is visible. */
export interface Sample {
  /** Organisation of the benchmark clinician's token. */
  org: string;
  /** Clients enrolled at `org`. */
  patients: string[];
  /** Client codes of clients of `org` who have a referral Task (for the chained search). */
  referralCodes: string[];
  /** Client codes of clients of `org`. */
  clientCodes: string[];
  /** Indicator reporting period: the year up to the generator's reference date. */
  periodStart: string;
  periodEnd: string;
  /** Current (not deleted) resources in the store. */
  resources: number;
}

/** Returns the cached seeded database for (clients, seed), building it first when missing. */
export async function ensureSeeded(clients: number, seed: number): Promise<{ file: string; info: SeedInfo }> {
  const dir = join(DATA_ROOT, `c${clients}-s${seed}`);
  const file = join(dir, DB_FILE);
  if (existsSync(file) && existsSync(join(dir, 'seed.json'))) {
    const info = JSON.parse(readFileSync(join(dir, 'seed.json'), 'utf8')) as SeedInfo;
    log(`using cached data set ${dir} (${info.resources} resources)`);
    return { file, info };
  }
  // A half-built set (an interrupted run) is never used: build into .partial, rename when done.
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const args = ['scripts/seed.ts', '--clients', String(clients), '--seed', String(seed)];
  const command = `DATABASE_URL=sqlite:${join(partial, DB_FILE)} node --import tsx ${args.join(' ')}`;
  log(`building data set: ${command} (a 100,000-client set takes several minutes)`);
  const stdout = await new Promise<string>((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: `sqlite:${join(partial, DB_FILE)}`, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? done(out) : fail(new Error(`seed generator exited with code ${code}\n${out}`))));
  });
  const info = parseSeedOutput(stdout, clients, seed, `npm run seed -- --clients ${clients} --seed ${seed}`);
  writeFileSync(join(partial, 'seed.json'), `${JSON.stringify(info, null, 2)}\n`);
  renameSync(partial, dir);
  return { file, info };
}

/** Reads `seeded N clients (R resources, …) in S s (…)` printed by scripts/seed.ts. */
export function parseSeedOutput(stdout: string, clients: number, seed: number, command: string): SeedInfo {
  const m = /seeded (\d+) clients \((\d+) resources.*?\) in ([\d.]+) s/.exec(stdout);
  if (!m) throw new Error(`unexpected seed generator output:\n${stdout.slice(0, 500)}`);
  const resources = Number(m[2]);
  const seconds = Number(m[3]);
  return { clients, seed, resources, seconds, resourcesPerSecond: Math.round(resources / seconds), builtAt: new Date().toISOString(), command };
}

/** A private copy of the cached database for one run (a reflink where the file system has them). */
export function workingCopy(file: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(DATA_ROOT, 'run-'));
  const copy = join(dir, DB_FILE);
  const started = Date.now();
  copyFileSync(file, copy, constants.COPYFILE_FICLONE);
  log(`working copy ${copy} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { dir, file: copy };
}

/** Draws the scenario inputs from the database (read-only; closed before the server opens it). */
export function readSample(file: string, org = 'clinic-1'): Sample {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    // Ordering by the random UUID spreads the picks over the whole file, not one hot page.
    const patients = (db.prepare('SELECT patient_id AS id FROM enrolments WHERE org = ? ORDER BY patient_id LIMIT 2000').all(org) as { id: string }[]).map((r) => r.id);
    const clientCodes = (
      db.prepare(
        `SELECT p.key AS code FROM pseudonyms p JOIN enrolments e ON e.patient_id = p.patient_id AND e.org = ?
         WHERE p.kind = 'client-code' ORDER BY p.patient_id LIMIT 2000`,
      ).all(org) as { code: string }[]
    ).map((r) => r.code);
    const referralCodes = (
      db.prepare(
        `SELECT DISTINCT p.key AS code FROM idx_ref t
           JOIN resources r ON r.rid = t.rid AND r.type = 'Task' AND r.deleted = 0 AND r.custodian = ?
           JOIN pseudonyms p ON p.kind = 'client-code' AND p.patient_id = t.target_id
         WHERE t.param = 'Task.patient' LIMIT 2000`,
      ).all(org) as { code: string }[]
    ).map((r) => r.code);
    if (!patients.length || !clientCodes.length) throw new Error(`the data set has no clients enrolled at ${org}`);
    if (!referralCodes.length) throw new Error(`the data set has no referral Tasks held by ${org}`);
    // The year that ends on the generator's reference date, so every indicator has data.
    const end = new Date(`${DEFAULT_AS_OF}T00:00:00Z`);
    const start = new Date(Date.UTC(end.getUTCFullYear() - 1, end.getUTCMonth(), end.getUTCDate() + 1));
    const resources = (db.prepare('SELECT COUNT(*) AS n FROM resources WHERE deleted = 0').get() as { n: number }).n;
    return { org, patients, clientCodes, referralCodes, resources, periodStart: start.toISOString().slice(0, 10), periodEnd: DEFAULT_AS_OF };
  } finally {
    db.close();
  }
}
