/**
 * `npm run bench [-- --clients N --seconds S --only words --profile]`: linkcare against two
 * hello-world baselines measured in the same run, on a seeded programme (bench/README.md).
 * Never part of `npm test`.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DATA_ROOT, ensureSeeded, readSample, workingCopy, type Sample } from './dataset';
import { type LoadScenario, type Measurement, runLoad, sanityRequest } from './load';
import { parseOptions, type BenchOptions } from './options';
import { renderProfile, summariseProfile } from './profile';
import { EXPRESS, NODE_HTTP, renderReport } from './report';
import { BENCH_PSEUDONYM_KEY, BENCH_SECRET, authHeaders } from './scenarios/common';
import { VersionPool, helloScenario, linkcareScenarios } from './scenarios/http';
import { bulkExport, evaluateMeasures, hasReporting, indicators } from './scenarios/jobs';
import { ROOT, type Target, installExitHandlers, log, startTarget, stopAll, stopTarget, cpuMicros } from './server';

const RESULTS = join(ROOT, 'bench', 'results');
/** Clients whose versions the update scenario tracks (well above the connection count). */
const UPDATE_POOL = 200;
const SERVER_LOG = join(DATA_ROOT, 'server-errors.log');
let scratch: string | undefined;

installExitHandlers(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Starts linkcare on the working copy, as in production (auth, policy and audit on). */
function startLinkcare(db: { dir: string; file: string }, o: BenchOptions, cpuProfileDir?: string): Promise<Target> {
  return startTarget('linkcare', 'src/server.ts', {
    readyPath: '/healthz',
    source: o.source,
    ...(cpuProfileDir ? { cpuProfileDir } : {}),
    // Errors only (a handful of lines, no request logging): enough to explain a 500 in the table.
    logFile: SERVER_LOG,
    env: {
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${db.file}`,
      DATA_DIR: db.dir,
      LOG_LEVEL: 'error',
      NODE_ENV: 'production',
      AUTH_JWT_SECRET: BENCH_SECRET,
      PSEUDONYM_KEY: BENCH_PSEUDONYM_KEY,
      RATE_LIMIT_PER_MINUTE: '1000000',
      // As the Docker image sets it (Dockerfile, docs/operations.md).
      MALLOC_ARENA_MAX: '2',
    },
  });
}

/** Sanity request, warm-up, then the timed run with a fresh RSS window. */
async function measureLoad(s: LoadScenario, o: BenchOptions): Promise<Measurement> {
  try {
    await sanityRequest(s);
  } catch (err) {
    // One broken scenario (other people's work in progress) must not cost the rest of the run.
    const problem = (err as Error).message;
    log(problem);
    const status = /status (\d{3})/.exec(problem)?.[1] ?? 'error';
    return {
      name: s.name, shape: s.shape, kind: 'load', target: s.target.name, medianMs: NaN, p95Ms: NaN, samples: 0, non2xx: 1, errors: 0,
      statusCodes: { [status]: 1 }, peakRssKb: await s.target.rss.peakKb(), note: `not measured: the sanity request got ${status === 'error' ? 'an error' : `status ${status}`} (cause in bench/.data/server-errors.log)`,
    };
  }
  const connections = s.connections ?? o.connections;
  if (o.warmup > 0) await runLoad(s, o.warmup, connections);
  await s.target.rss.reset();
  log(`measuring ${s.name} for ${o.seconds} s`);
  const cpuBefore = cpuMicros(s.target.child.pid!);
  const m = await runLoad(s, o.seconds, connections);
  const cpuAfter = cpuMicros(s.target.child.pid!);
  const cpu = cpuBefore !== undefined && cpuAfter !== undefined && m.samples > 0 ? { cpuUsPerRequest: (cpuAfter - cpuBefore) / m.samples } : {};
  return { ...m, ...cpu, peakRssKb: await s.target.rss.peakKb(), ...(s.connections ? { connections } : {}) };
}

/** A one-shot or sequential scenario with its own RSS window. */
async function measureOnce(target: Target, name: string, run: () => Promise<Omit<Measurement, 'peakRssKb'>>): Promise<Measurement> {
  await target.rss.reset();
  log(`measuring ${name}`);
  try {
    const m = await run();
    return { ...m, peakRssKb: await target.rss.peakKb() };
  } catch (err) {
    const problem = (err as Error).message;
    log(problem);
    return {
      name, shape: '', kind: 'job', target: target.name, medianMs: NaN, p95Ms: NaN, samples: 0, non2xx: 1, errors: 0, statusCodes: {},
      peakRssKb: await target.rss.peakKb(), note: `failed: ${problem.split('\n')[0]!.slice(0, 200).replace(/\|/g, '/')}`,
    };
  }
}

const wanted = (o: BenchOptions, name: string): boolean => !o.only.length || o.only.some((w) => name.toLowerCase().includes(w));

async function prepare(o: BenchOptions): Promise<{ db: { dir: string; file: string }; sample: Sample; seed: Awaited<ReturnType<typeof ensureSeeded>>['info'] }> {
  const { file, info } = await ensureSeeded(o.clients, o.seed);
  const db = o.inPlace ? { dir: join(file, '..'), file } : workingCopy(file);
  if (!o.inPlace) scratch = db.dir;
  return { db, sample: readSample(db.file, o.org), seed: info };
}

async function fullRun(o: BenchOptions, command: string): Promise<void> {
  const started = new Date();
  const loadAverage = loadavg()[0]!.toFixed(2);
  const { db, sample, seed } = await prepare(o);
  const express = await startTarget(EXPRESS, 'bench/baselines/express-hello.ts', { readyPath: '/', source: o.source });
  const node = await startTarget(NODE_HTTP, 'bench/baselines/node-hello.ts', { readyPath: '/', source: o.source });
  const linkcare = await startLinkcare(db, o);

  const results: Measurement[] = [];
  for (const s of [helloScenario(EXPRESS, express), helloScenario(NODE_HTTP, node)]) results.push(await measureLoad(s, o));
  const pool = new VersionPool();
  await pool.load(linkcare, authHeaders(['clinician'], sample.org), sample.patients.slice(-UPDATE_POOL));
  for (const s of linkcareScenarios(linkcare, sample, pool)) if (wanted(o, s.name)) results.push(await measureLoad(s, o));

  if (await hasReporting(linkcare)) {
    if (wanted(o, 'all indicators')) results.push(await measureOnce(linkcare, 'all indicators', () => indicators(linkcare, sample)));
    if (wanted(o, '$evaluate-measure')) results.push(await measureOnce(linkcare, '$evaluate-measure', () => evaluateMeasures(linkcare, sample)));
  } else {
    log('no Measure resources on this build (src/reporting missing): indicator scenarios skipped');
  }
  if (wanted(o, '$export')) results.push(await measureOnce(linkcare, '$export', () => bulkExport(linkcare, sample)));

  const linkcarePeakKb = await linkcare.rss.overallKb();
  const report = renderReport(results, { started, loadAverage, options: o, seed, resourcesAtStart: sample.resources, linkcarePeakKb, command });
  process.stdout.write(`\n${report}`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'latest.md'), report);
  log('wrote bench/results/latest.md');
}

/**
 * `--profile`: for read-by-id and the transaction, a fresh linkcare under `node --cpu-prof`, one
 * timed run, then the functions and areas with the most self time inside the timed window.
 */
async function profileRun(o: BenchOptions, command: string): Promise<void> {
  const { db, sample } = await prepare(o);
  const out = [`# linkcare CPU profiles`, '', `${new Date().toISOString()} · \`${command}\` · ${sample.resources.toLocaleString('en')} resources · load average ${loadavg()[0]!.toFixed(2)}`, ''];
  const pool = new VersionPool();
  // Default: the two scenarios issue #9 names; `--only` profiles others instead.
  for (const pick of o.only.length ? o.only : ['read patient by id', 'transaction of']) {
    const dir = join(DATA_ROOT, 'profiles', pick.replace(/\W+/g, '-'));
    rmSync(dir, { recursive: true, force: true });
    const linkcare = await startLinkcare(db, o, dir);
    const scenario = linkcareScenarios(linkcare, sample, pool).find((s) => s.name.toLowerCase().includes(pick));
    if (!scenario) throw new Error(`--only ${pick}: no such load scenario`);
    if (scenario.name.startsWith('update')) await pool.load(linkcare, authHeaders(['clinician'], sample.org), sample.patients.slice(-UPDATE_POOL));
    await sanityRequest(scenario);
    if (o.warmup > 0) await runLoad(scenario, o.warmup, o.connections);
    const from = Number(process.hrtime.bigint() / 1000n);
    const m = await runLoad(scenario, o.seconds, o.connections);
    const to = Number(process.hrtime.bigint() / 1000n);
    await stopTarget(linkcare);
    // One profile per thread: <date>.<time>.<pid>.<thread>.<seq>; thread 0 is the main thread
    // (the other is tsx's module loader, idle once everything is loaded).
    const file = readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
    if (!file) throw new Error(`no main-thread .cpuprofile written in ${dir}`);
    const throughput = `${m.reqPerSec!.toFixed(0)} req/s${m.resourcesPerSec !== undefined ? `, ${m.resourcesPerSec.toFixed(0)} resources/s` : ''}, p95 ${m.p95Ms.toFixed(1)} ms under the profiler (profile: ${join(dir, file).replace(`${ROOT}/`, '')})`;
    out.push(renderProfile(scenario.name, summariseProfile(join(dir, file), from, to), throughput));
  }
  const text = out.join('\n');
  process.stdout.write(`\n${text}`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'profile-latest.md'), text);
  log('wrote bench/results/profile-latest.md');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseOptions(argv);
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  try {
    await (o.profile ? profileRun(o, command) : fullRun(o, command));
  } finally {
    await stopAll();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
