/**
 * The servers under test as child processes: start (optionally under `node --cpu-prof`), wait
 * until they answer, watch their resident memory, stop them. Every child is killed when the bench
 * exits, whichever way it ends.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');
/** Where the servers are compiled to, as the production image runs them (`node dist/src/server.js`). */
export const BUILD_DIR = join(ROOT, 'bench', '.data', 'build');
// Generous: on a million-resource store, start-up may build an index added since the data set was seeded.
const START_TIMEOUT_MS = 600_000;

/** A running server: where it listens and how much memory it has used. */
export interface Target {
  name: string;
  base: string;
  rss: PeakRss;
  child: ChildProcess;
}

export interface StartOptions {
  /** Environment added to the bench's own. */
  env?: Record<string, string>;
  /** Path answered with 2xx once the server is ready. */
  readyPath: string;
  /** Write a V8 CPU profile into this folder when the child exits (`node --cpu-prof`). */
  cpuProfileDir?: string;
  /** Append the child's output after start-up (its log lines) to this file. */
  logFile?: string;
  /** Run the TypeScript source through tsx instead of the compiled build (quicker to start). */
  source?: boolean;
}

const children = new Set<ChildProcess>();

/** Logs progress to stderr, so stdout carries only the report. */
export const log = (message: string): void => void process.stderr.write(`bench: ${message}\n`);

/**
 * Peak resident memory of a child. Linux keeps the high-water mark (VmHWM) itself, so reading it
 * cannot miss a short spike, and `reset()` (clear_refs 5) starts a new window per scenario while
 * `overallKb` keeps the maximum of every window. Elsewhere `ps` is polled, which can miss spikes.
 */
export class PeakRss {
  private polledKb = 0;
  private overall = 0;
  private readonly linux: boolean;

  constructor(private readonly pid: number) {
    this.linux = existsSync(`/proc/${pid}/status`);
    // unref: the poller must not keep the bench alive once the run is over.
    if (!this.linux) setInterval(() => void this.poll(), 250).unref();
  }

  /** Peak RSS in kB since the last reset (or since start). */
  async peakKb(): Promise<number> {
    let kb = 0;
    if (this.linux) {
      try {
        kb = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1] ?? 0);
      } catch {
        // The child already exited; the last window's figure is in `overall`.
      }
    } else {
      await this.poll();
      kb = this.polledKb;
    }
    if (kb > this.overall) this.overall = kb;
    return kb;
  }

  /** The highest peak seen over every window so far. */
  async overallKb(): Promise<number> {
    await this.peakKb();
    return this.overall;
  }

  /** Starts a new measuring window (the kernel resets VmHWM to the current RSS). */
  async reset(): Promise<void> {
    await this.peakKb();
    if (this.linux) {
      try {
        writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      } catch {
        // Not permitted here: windows then stay cumulative, which only overstates.
      }
    } else {
      this.polledKb = 0;
    }
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

let ticksPerSecond: number | undefined;

/**
 * CPU time (user + system) a child has used so far, in µs, or undefined off Linux. Per request it
 * is steadier than req/s on a shared machine: a neighbour's load stretches wall time, not our CPU.
 */
export function cpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name: state is 3rd, utime 14th, stime 15th (proc(5)).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return ((Number(rest[11]) + Number(rest[12])) * 1e6) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

let built = false;

/**
 * Compiles the project with tsc into BUILD_DIR, once per run. Servers then run as plain
 * JavaScript, as in production: no TypeScript loader in the process, its memory or its start-up.
 */
export function buildOnce(): void {
  if (built) return;
  log('compiling with tsc into bench/.data/build');
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json'), '--outDir', BUILD_DIR, '--noEmit', 'false', '--sourceMap', 'false'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    // tsc still emits on type errors (work in progress elsewhere); a missing entry point fails at start.
    log(`tsc reported errors (JavaScript emitted anyway):\n${String((err as { stdout?: Buffer }).stdout ?? '').slice(0, 2000)}`);
  }
  built = true;
}

/**
 * Starts `<script>` with PORT=0 and resolves once it answers `readyPath`: the compiled JavaScript
 * (see buildOnce), or the TypeScript source through tsx when `source` is set.
 */
export async function startTarget(name: string, script: string, opts: StartOptions): Promise<Target> {
  log(`starting ${name}${opts.cpuProfileDir ? ' under --cpu-prof' : ''}${opts.source ? ' from source (tsx)' : ''}`);
  const nodeArgs = opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : [];
  if (!opts.source) buildOnce();
  const entry = opts.source ? ['--import', 'tsx', script] : [join(BUILD_DIR, script.replace(/\.ts$/, '.js'))];
  const child = spawn(process.execPath, [...nodeArgs, ...entry], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env, PORT: '0' },
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
    const logStream = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
    // Keep draining stdout after the match: a full pipe would block the child.
    child.stdout!.on('data', (chunk: Buffer) => {
      logStream?.write(chunk);
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
  await waitReady(name, `${base}${opts.readyPath}`);
  return { name, base, rss: new PeakRss(child.pid!), child };
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

/** Stops one server with SIGTERM (so a --cpu-prof child writes its profile), SIGKILL after 30 s. */
export function stopTarget(target: Target): Promise<void> {
  const child = target.child;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => done(clearTimeout(force)));
    child.kill('SIGTERM');
  });
}

/** Stops every server still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stopTarget({ child } as Target)));
}

/** Makes sure no child outlives the bench, and Ctrl-C stops the servers before exiting. */
export function installExitHandlers(cleanup: () => void): void {
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
    cleanup();
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
}
