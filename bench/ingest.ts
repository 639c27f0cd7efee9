/**
 * Ingest through transactions, in one process, in about a minute (issue #9: ≥ 5,000 resources/s).
 *
 *   node --import tsx bench/ingest.ts [--db /tmp/ingest-bench/work.sqlite]
 *     [--from bench/.data/c100000-s1/linkcare.sqlite] [--seconds 15] [--warmup 3] [--connections 10]
 *     [--baseline-seconds 5] [--profile /tmp/prof-ingest]
 *
 * The database is a scratch copy of a seeded data set (made once from `--from`, then reused: each
 * run adds a few thousand Observations to 1.46M resources, which does not change its shape). The
 * app is the real one (createLinkcare: authentication, access policy, rules, validation, indexing,
 * audit) listening on a local port; `--connections` loops each POST a transaction Bundle of 50 viral
 * load Observations, each about a different client of clinic-1, as the HTTP bench does. The load
 * generator is a child process, so the server's CPU time per resource (process.cpuUsage) is
 * reported too: on a shared 2-core machine it moves far less with other people's jobs than
 * throughput does, and is the figure to compare between runs.
 *
 * Baseline, same run and same file: plain better-sqlite3 INSERTs of the same Observation JSON into
 * a two-column table (uuid primary key, content), 50 rows per COMMIT — the least any store could
 * do with these resources. It runs before and after the app, and the figure is their mean.
 * `--profile` samples the timed window with V8's profiler and prints self time per function.
 */
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { Session } from 'node:inspector/promises';
import Database from 'better-sqlite3';
import pino from 'pino';
import { createLinkcare } from '../src/app';
import { signDevToken } from '../src/auth/jwt';
import { loadConfig } from '../src/config';
import { createIndexer } from '../src/search/indexer';
import { loadSearchRegistry } from '../src/search/registry';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store';
import { renderProfile, summariseProfile } from './profile';
import { viralLoad } from './scenarios/http';
import { INGEST_DB, INGEST_ORG, sampleIngestClients } from './ingest-data';
import { flag } from './options';

const ROOT = resolve(__dirname, '..');
const BUNDLE_SIZE = 50;
const ORG = INGEST_ORG;
const SECRET = 'ingest-bench-secret-ingest-bench-secret-0123456789';

const option = (name: string, fallback: string): string => flag(process.argv, name) ?? fallback;

const opts = {
  db: option('db', INGEST_DB),
  from: option('from', join(ROOT, 'bench/.data/c100000-s1/linkcare.sqlite')),
  seconds: Number(option('seconds', '15')),
  warmup: Number(option('warmup', '3')),
  connections: Number(option('connections', '10')),
  baselineSeconds: Number(option('baseline-seconds', '5')),
  profile: option('profile', ''),
  // Experiment only: extra PRAGMAs applied to the store's connections right after its own
  // cache_size (e.g. `--pragma "cache_size = -262144;mmap_size = 4294967296"`), to measure a
  // change to src/store/sqlite/sqlite-store.ts before making it there.
  pragmas: option('pragma', '').split(';').map((p) => p.trim()).filter(Boolean),
};

const log = (m: string): void => void process.stderr.write(`ingest: ${m}\n`);

/** Makes bundles of 50 Observations, one client each, cycling through `patients`. */
function bundleMaker(patients: string[]): () => { body: string; resources: Record<string, unknown>[] } {
  let n = 0;
  return () => {
    const resources = Array.from({ length: BUNDLE_SIZE }, () => viralLoad(patients[n % patients.length]!, n++));
    const entry = resources.map((resource) => ({ fullUrl: `urn:uuid:${randomUUID()}`, resource, request: { method: 'POST', url: 'Observation' } }));
    return { body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }), resources };
  };
}

function ensureDb(): void {
  if (existsSync(opts.db)) return;
  if (!existsSync(opts.from)) throw new Error(`no data set at ${opts.from}: run \`npm run bench\` once, or pass --from`);
  mkdirSync(dirname(opts.db), { recursive: true });
  const t0 = Date.now();
  copyFileSync(opts.from, opts.db);
  log(`copied ${opts.from} to ${opts.db} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}


/** Throughput (wall clock) and this process's CPU time per resource (user + system). */
interface Rate {
  perSecond: number;
  cpuUs: number;
}

/** Raw INSERTs of the same JSON, 50 per COMMIT, for `seconds`. */
function rawBaseline(patients: string[], seconds: number): Rate {
  if (seconds <= 0) return { perSecond: NaN, cpuUs: NaN };
  const db = new Database(opts.db);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE IF NOT EXISTS bench_raw (id TEXT PRIMARY KEY, content TEXT NOT NULL)');
    const ins = db.prepare('INSERT INTO bench_raw (id, content) VALUES (?, ?)');
    const next = bundleMaker(patients);
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let n = 0;
    while (performance.now() < end) {
      const { resources } = next();
      db.exec('BEGIN IMMEDIATE');
      for (const r of resources) ins.run(randomUUID(), JSON.stringify({ ...r, id: randomUUID() }));
      db.exec('COMMIT');
      n += resources.length;
    }
    const cpu = process.cpuUsage(cpu0);
    return { perSecond: (n / (performance.now() - t0)) * 1000, cpuUs: (cpu.user + cpu.system) / n };
  } finally {
    db.close();
  }
}

/** Posts bundles from `connections` loops for `ms`; counts resources created. */
async function load(url: string, auth: string, next: () => { body: string }, ms: number): Promise<{ resources: number; failures: number }> {
  let resources = 0;
  let failures = 0;
  const until = performance.now() + ms;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const res = await fetch(url, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/fhir+json', accept: 'application/fhir+json' }, body: next().body });
      const text = await res.text();
      const created = res.status === 200 ? (text.match(/"status":"201 Created"/g) ?? []).length : 0;
      if (created === BUNDLE_SIZE) resources += created;
      else if (failures++ === 0) log(`unexpected answer ${res.status}: ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, loop));
  return { resources, failures };
}

/** Applies `--pragma` after the store's own cache_size (see opts.pragmas). */
function patchPragmas(): void {
  if (!opts.pragmas.length) return;
  const own = Database.prototype.pragma;
  Database.prototype.pragma = function (this: Database.Database, source: string, options?: Database.PragmaOptions) {
    const result: unknown = own.call(this, source, options);
    if (/^cache_size\b/.test(source)) for (const p of opts.pragmas) own.call(this, p);
    return result;
  };
  log(`extra pragmas: ${opts.pragmas.join('; ')}`);
}

interface LoadJob {
  url: string;
  auth: string;
  patients: string[];
}
type LoadResult = { resources: number; failures: number };

/**
 * The load generator runs in a child process (as the HTTP bench's does), so that the server's
 * CPU time can be read from process.cpuUsage() and the profile holds the server alone. It says
 * 'ready', then runs one phase per message (its length in ms) and answers each with its result.
 */
function loadChild(): Promise<void> {
  let job: LoadJob | undefined;
  let next: ReturnType<typeof bundleMaker> | undefined;
  process.on('message', (m) => {
    if (typeof m === 'object') {
      if (job) return;
      job = m as LoadJob;
      next = bundleMaker(job.patients);
      process.send!('ready');
    } else void load(job!.url, job!.auth, next!, m as number).then((r) => process.send!(r));
  });
  return Promise.resolve();
}

/** Starts the load generator; `phase(ms)` runs one phase and resolves with its result. */
async function startLoad(job: LoadJob): Promise<{ phase: (ms: number) => Promise<LoadResult>; stop: () => void }> {
  const child = fork(__filename, ['--load-child', '--connections', String(opts.connections)], { execArgv: ['--import', 'tsx'] });
  // Whether a message sent before the child listens is kept is not promised: resend until it answers.
  await new Promise<void>((ready) => {
    const timer = setInterval(() => child.send(job), 500);
    child.send(job);
    child.once('message', () => (clearInterval(timer), ready()));
  });
  return {
    phase: (ms) =>
      new Promise((done) => {
        const answer = (m: unknown): void => {
          if (typeof m !== 'object') return;
          child.off('message', answer);
          done(m as LoadResult);
        };
        child.on('message', answer);
        child.send(ms);
      }),
    stop: () => void child.kill(),
  };
}

async function main(): Promise<void> {
  ensureDb();
  patchPragmas();
  const { patients, resources } = sampleIngestClients(opts.db);
  log(`${opts.db}: ${resources} resources, ${patients.length} clients of ${ORG}`);
  const rawBefore = rawBaseline(patients, opts.baselineSeconds);
  log(`baseline (raw INSERT, 50 per COMMIT): ${rawBefore.perSecond.toFixed(0)} resources/s`);

  const config = loadConfig({
    NODE_ENV: 'production',
    DATABASE_URL: `sqlite:${opts.db}`,
    BASE_URL: 'http://localhost:8080/fhir',
    LOG_LEVEL: 'silent',
    AUTH_JWT_SECRET: SECRET,
    PSEUDONYM_KEY: randomBytes(32).toString('base64'),
    RATE_LIMIT_PER_MINUTE: '1000000',
  });
  const registry = loadSearchRegistry();
  const store = openSqliteStore(opts.db, { indexer: createIndexer(registry, config.baseUrl) });
  const linkcare = createLinkcare({ config, store, registry, logger: pino({ level: 'silent' }), workers: false });
  await linkcare.ready;
  const server = linkcare.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
  const auth = `Bearer ${signDevToken(SECRET, { sub: 'ingest-bench', org: ORG, roles: ['clinician'], ttlSeconds: 3600 })}`;
  const loader = await startLoad({ url, auth, patients: patients.slice().reverse() });
  await loader.phase(opts.warmup * 1000);
  const session = opts.profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await loader.phase(opts.seconds * 1000);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const profile = session ? (await session.post('Profiler.stop')).profile : undefined;
  loader.stop();
  await new Promise((done) => server.close(done));
  await linkcare.stop();
  await store.close();

  const rawAfter = rawBaseline(patients, opts.baselineSeconds);
  const raw = (rawBefore.perSecond + rawAfter.perSecond) / 2;
  const rawCpu = (rawBefore.cpuUs + rawAfter.cpuUs) / 2;
  const rate = (r.resources / ms) * 1000;
  const cpuUs = (cpu.user + cpu.system) / r.resources;
  const lines = [
    `data set: ${resources} resources; ${opts.pragmas.length ? `extra pragmas ${opts.pragmas.join('; ')}; ` : ''}${opts.connections} connections, ${opts.seconds} s after ${opts.warmup} s warm-up; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`,
    `baseline raw INSERT (50 per COMMIT): ${rawBefore.perSecond.toFixed(0)} before, ${rawAfter.perSecond.toFixed(0)} after → ${raw.toFixed(0)} resources/s, ${rawCpu.toFixed(0)} µs CPU per resource`,
    `transactions of ${BUNDLE_SIZE} Observations: ${r.resources} resources in ${(ms / 1000).toFixed(1)} s = ${rate.toFixed(0)} resources/s, server ${cpuUs.toFixed(0)} µs CPU per resource (${r.failures} failed requests)`,
    `ratio ingest / raw INSERT: ${(rate / raw).toFixed(3)}× by throughput, ${(rawCpu / cpuUs).toFixed(3)}× by CPU per resource`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (profile && opts.profile) {
    mkdirSync(opts.profile, { recursive: true });
    const file = join(opts.profile, `ingest-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    const s = summariseProfile(file, 0, 0, 20);
    process.stdout.write(`\n${renderProfile('transactions of 50 Observations (in process)', s, `${rate.toFixed(0)} resources/s`)}\n${file}\n`);
  }
}

(process.argv.includes('--load-child') ? loadChild() : main()).catch((err: unknown) => {
  process.stderr.write(`ingest: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
