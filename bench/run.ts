/**
 * Throughput/latency benchmark: linkcare against two hello-world baselines measured in the same
 * run, so results are read as ratios that survive a shared, noisy machine. See bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { signDevToken } from '../src/auth/jwt';
import autocannon from 'autocannon';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const SECONDS = wholeNumber('BENCH_SECONDS', 10, 1);
// A short untimed run first, so the JIT and SQLite page cache are warm when the clock starts.
const WARMUP_SECONDS = wholeNumber('BENCH_WARMUP_SECONDS', 1, 0);
const CONNECTIONS = 10;
const SEED_PATIENTS = 1000;
const BUNDLE_SIZE = 100;
const START_TIMEOUT_MS = 60_000;
// The server runs with authentication, access control and audit on, as in production: every
// request carries a clinician's token for one organisation.
const BENCH_SECRET = randomBytes(48).toString('base64');
const BENCH_PSEUDONYM_KEY = randomBytes(32).toString('base64');
const headers: Record<string, string> = {
  accept: 'application/fhir+json',
  authorization: `Bearer ${signDevToken(BENCH_SECRET, { sub: 'bench', org: 'bench-org', roles: ['clinician', 'admin'], ttlSeconds: 3600 })}`,
};

const PATIENT = JSON.stringify({ resourceType: 'Patient', gender: 'female', birthDate: '1990' });

interface Target {
  name: string;
  base: string;
  rss: PeakRss;
}

interface Scenario {
  name: string;
  target: Target;
  method: 'GET' | 'POST';
  expectStatus: number;
  /** Resources read or written per successful request; 0 for the hello baselines. */
  resourcesPerRequest: number;
  /** When set, every request is built afresh (rotating ids, unique fullUrls). */
  dynamic: boolean;
  next(): { path: string; body?: string };
  /** Extra sanity check on the response body; returns a problem or undefined. */
  checkBody?(body: string): string | undefined;
}

interface Measurement {
  scenario: Scenario;
  reqPerSec: number;
  medianMs: number;
  p95Ms: number;
  non2xx: number;
  statusCodes: Record<string, { count?: number }>;
  errors: number;
  peakRssKb: number;
}

const children = new Set<ChildProcess>();
// Holds linkcare's SQLite file; removed by the exit handler, whichever way the run ends.
const dataDir = mkdtempSync(join(tmpdir(), 'linkcare-bench-'));

async function main(): Promise<void> {
  const started = new Date();
  const load = loadavg()[0]!.toFixed(2);
  try {
    const express = await startTarget('express hello', ['bench/baselines/express-hello.ts'], {}, '/');
    const node = await startTarget('node:http hello', ['bench/baselines/node-hello.ts'], {}, '/');
    const linkcare = await startTarget('linkcare', ['src/server.ts'], {
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(dataDir, 'bench.sqlite')}`,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'production',
      AUTH_JWT_SECRET: BENCH_SECRET,
      PSEUDONYM_KEY: BENCH_PSEUDONYM_KEY,
      RATE_LIMIT_PER_MINUTE: '1000000',
    }, '/healthz');

    log(`seeding ${SEED_PATIENTS} patients for the read scenario`);
    const ids = await seedPatients(linkcare, SEED_PATIENTS);
    let cursor = 0;

    const scenarios: Scenario[] = [
      helloScenario('baseline: express hello', express),
      helloScenario('baseline: node:http hello', node),
      {
        name: 'linkcare: read Patient by id', target: linkcare, method: 'GET', expectStatus: 200,
        resourcesPerRequest: 1, dynamic: true,
        next: () => ({ path: `/fhir/Patient/${ids[cursor++ % ids.length]}` }),
        checkBody: (body) => (JSON.parse(body).resourceType === 'Patient' ? undefined : 'body is not a Patient'),
      },
      {
        name: 'linkcare: create Patient', target: linkcare, method: 'POST', expectStatus: 201,
        resourcesPerRequest: 1, dynamic: false,
        next: () => ({ path: '/fhir/Patient', body: PATIENT }),
      },
      {
        name: `linkcare: transaction of ${BUNDLE_SIZE} Patient POSTs`, target: linkcare, method: 'POST',
        expectStatus: 200, resourcesPerRequest: BUNDLE_SIZE, dynamic: true,
        next: () => ({ path: '/fhir', body: transactionBundle() }),
        checkBody: checkTransactionResponse,
      },
    ];

    const results: Measurement[] = [];
    for (const scenario of scenarios) {
      await sanityRequest(scenario);
      if (WARMUP_SECONDS > 0) await measure(scenario, WARMUP_SECONDS);
      log(`measuring ${scenario.name} for ${SECONDS} s`);
      results.push(await measure(scenario, SECONDS));
    }

    const report = renderReport(results, linkcare, started, load);
    process.stdout.write(`\n${report}`);
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'latest.md'), report);
    log('wrote bench/results/latest.md');
  } finally {
    await stopAll();
  }
}

function helloScenario(name: string, target: Target): Scenario {
  return {
    name, target, method: 'GET', expectStatus: 200, resourcesPerRequest: 0, dynamic: false,
    next: () => ({ path: '/' }),
    checkBody: (body) => (JSON.parse(body).hello === 'world' ? undefined : 'unexpected body'),
  };
}

function transactionBundle(): string {
  const entry = Array.from({ length: BUNDLE_SIZE }, (_, i) => ({
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: { resourceType: 'Patient', gender: i % 2 ? 'female' : 'male', birthDate: `${1960 + (i % 40)}` },
    request: { method: 'POST', url: 'Patient' },
  }));
  return JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry });
}

function checkTransactionResponse(body: string): string | undefined {
  const bundle = JSON.parse(body) as { type?: string; entry?: { response?: { status?: string } }[] };
  if (bundle.type !== 'transaction-response') return `expected a transaction-response, got type ${bundle.type}`;
  const created = (bundle.entry ?? []).filter((e) => e.response?.status?.startsWith('201')).length;
  return created === BUNDLE_SIZE ? undefined : `only ${created} of ${BUNDLE_SIZE} entries report 201`;
}

/** One request exactly like the measured ones, so a broken scenario fails loudly, not as noise. */
async function sanityRequest(scenario: Scenario): Promise<void> {
  const { path, body } = scenario.next();
  const url = `${scenario.target.base}${path}`;
  let problem: string | undefined, text = '';
  try {
    const res = await fetch(url, { method: scenario.method, headers: requestHeaders(body), body });
    text = await res.text();
    if (res.status !== scenario.expectStatus) problem = `status ${res.status}, expected ${scenario.expectStatus}`;
    else problem = scenario.checkBody?.(text);
  } catch (err) {
    problem = (err as Error).message;
  }
  if (problem) throw new Error(`sanity request for "${scenario.name}" failed (${scenario.method} ${url}): ${problem}\n${text.slice(0, 600)}`);
}

const requestHeaders = (body: string | undefined): Record<string, string> =>
  body === undefined ? { ...headers } : { ...headers, 'content-type': 'application/fhir+json' };

async function measure(scenario: Scenario, seconds: number): Promise<Measurement> {
  const first = scenario.next();
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((done, fail) => {
    const instance = autocannon(
      {
        url: scenario.target.base,
        connections: CONNECTIONS,
        duration: seconds,
        method: scenario.method,
        headers: requestHeaders(first.body),
        requests: [
          scenario.dynamic
            ? { setupRequest: (req) => ({ ...req, ...scenario.next() }) }
            : { path: first.path, body: first.body },
        ],
      },
      (err, res) => (err ? fail(err) : done(res)),
    );
    // autocannon stops itself after `duration`; this only fires if the server wedges a socket.
    const watchdog = setTimeout(() => {
      instance.stop();
      fail(new Error(`"${scenario.name}" did not finish within ${seconds + 30} s`));
    }, (seconds + 30) * 1000);
    watchdog.unref();
    instance.on('done', () => clearTimeout(watchdog));
    // autocannon only publishes fixed percentiles (no p95), so keep every 2xx latency ourselves.
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  latencies.sort((a, b) => a - b);
  return {
    scenario,
    reqPerSec: result['2xx'] / result.duration,
    medianMs: percentile(latencies, 0.5),
    p95Ms: percentile(latencies, 0.95),
    non2xx: result.non2xx,
    statusCodes: result.statusCodeStats ?? {},
    errors: result.errors + result.timeouts,
    peakRssKb: await scenario.target.rss.peakKb(),
  };
}

/** Nearest-rank percentile over sorted samples. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

async function seedPatients(target: Target, count: number): Promise<string[]> {
  const ids: string[] = [];
  let remaining = count;
  const worker = async (): Promise<void> => {
    while (remaining > 0) {
      remaining--;
      const res = await fetch(`${target.base}/fhir/Patient`, { method: 'POST', headers: requestHeaders(PATIENT), body: PATIENT });
      const text = await res.text();
      const id = /\/Patient\/([^/]+)\/_history\//.exec(res.headers.get('location') ?? '')?.[1];
      if (res.status !== 201 || !id) throw new Error(`seeding failed: status ${res.status}, Location ${res.headers.get('location')}\n${text.slice(0, 600)}`);
      ids.push(id);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return ids;
}

/**
 * Peak resident memory of a child. Linux keeps the high-water mark (VmHWM) itself, so reading it
 * cannot miss a short spike; elsewhere `ps` is polled, which can.
 */
class PeakRss {
  private polledKb = 0;

  constructor(private readonly pid: number) {
    // unref: the poller must not keep the bench alive once the run is over.
    if (!existsSync(`/proc/${pid}/status`)) setInterval(() => void this.poll(), 250).unref();
  }

  async peakKb(): Promise<number> {
    let status = '';
    try {
      status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    } catch {
      // Not Linux, or the child already died; the ps samples are all there is.
    }
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    if (hwm) return Number(hwm[1]);
    await this.poll();
    return this.polledKb;
  }

  private poll(): Promise<void> {
    return new Promise((done) => {
      // Async on purpose: a blocking call here would stall the load generator sharing this thread.
      execFile('ps', ['-o', 'rss=', '-p', String(this.pid)], (err, stdout) => {
        const kb = err ? 0 : Number(stdout.trim());
        if (kb > this.polledKb) this.polledKb = kb;
        done();
      });
    });
  }
}

async function startTarget(name: string, args: string[], env: Record<string, string>, readyPath: string): Promise<Target> {
  log(`starting ${name}`);
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));

  const port = await new Promise<number>((done, fail) => {
    let stdout = '';
    let found = false;
    const timer = setTimeout(() => fail(new Error(`${name} printed no listening line within ${START_TIMEOUT_MS / 1000} s\n${stderr}`)), START_TIMEOUT_MS);
    // Keep draining stdout after the match: a full pipe would block the child.
    child.stdout!.on('data', (chunk: Buffer) => {
      if (found) return;
      stdout += chunk.toString();
      const match = /listening on http:\/\/\S+?:(\d+)/.exec(stdout);
      if (match) {
        found = true;
        clearTimeout(timer);
        done(Number(match[1]));
      }
    });
    child.once('exit', (code, signal) => fail(new Error(`${name} exited (code ${code}, signal ${signal}) before listening\n${stderr}`)));
  });

  // The printed host may be "localhost", which can resolve to ::1; the servers bind IPv4 loopback.
  const base = `http://127.0.0.1:${port}`;
  await waitReady(name, `${base}${readyPath}`);
  return { name, base, rss: new PeakRss(child.pid!) };
}

async function waitReady(name: string, url: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} never became ready at ${url}: ${last}`);
}

async function stopAll(): Promise<void> {
  await Promise.all([...children].map(stopChild));
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => done(clearTimeout(force)));
    child.kill('SIGTERM');
  });
}

function renderReport(results: Measurement[], linkcare: Target, started: Date, load: string): string {
  const express = results.find((r) => r.scenario.name.includes('express hello'))!;
  const node = results.find((r) => r.scenario.name.includes('node:http hello'))!;
  const lines = [
    `# linkcare benchmark`,
    '',
    `${started.toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'} · ` +
      `load average at start ${load} · ${CONNECTIONS} connections · ${SECONDS} s per scenario (+${WARMUP_SECONDS} s warm-up)`,
    '',
    '| scenario | req/s | resources/s | median ms | p95 ms | non-2xx | errors | ratio vs express hello | ratio vs node:http hello | server peak RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const resources = r.scenario.resourcesPerRequest > 0 ? fixed(r.reqPerSec * r.scenario.resourcesPerRequest, 0) : '—';
    const flag = r.non2xx > 0 || r.errors > 0 ? ' ⚠' : '';
    lines.push(
      `| ${r.scenario.name}${flag} | ${fixed(r.reqPerSec, 0)} | ${resources} | ${fixed(r.medianMs, 2)} | ${fixed(r.p95Ms, 2)} | ` +
        `${r.non2xx} | ${r.errors} | ${ratio(r.reqPerSec, express.reqPerSec)} | ${ratio(r.reqPerSec, node.reqPerSec)} | ${fixed(r.peakRssKb / 1024, 0)} |`,
    );
  }
  const linkcarePeak = Math.max(...results.filter((r) => r.scenario.target === linkcare).map((r) => r.peakRssKb));
  lines.push(
    '',
    `linkcare peak RSS over the whole run (includes start-up and seeding ${SEED_PATIENTS} patients): ${fixed(linkcarePeak / 1024, 1)} MB`,
    '',
    'req/s counts 2xx responses only. Latencies are exact percentiles over every 2xx response of the timed run. ' +
      '"server peak RSS" is the high-water mark of that server process so far, so linkcare rows are cumulative.',
  );
  for (const r of results.filter((x) => x.non2xx > 0 || x.errors > 0)) {
    const codes = Object.entries(r.statusCodes).map(([code, stat]) => `${code}: ${stat.count ?? 0}`).join(', ');
    lines.push('', `⚠ ${r.scenario.name}: ${r.non2xx} non-2xx responses, ${r.errors} connection errors/timeouts (status codes ${codes})`);
  }
  return `${lines.join('\n')}\n`;
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function ratio(value: number, baseline: number): string {
  const r = value / baseline;
  return Number.isFinite(r) ? `${r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×` : 'n/a';
}

function wholeNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new Error(`${name} must be a whole number ≥ ${min}, got "${raw}"`);
  return Number(raw);
}

const log = (message: string): void => void process.stderr.write(`bench: ${message}\n`);

// Children must never outlive the bench, whichever way it ends.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});
// Ctrl-C under `npm run` arrives twice (terminal and tsx relay); the second must not kill us mid-cleanup.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping servers`);
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
