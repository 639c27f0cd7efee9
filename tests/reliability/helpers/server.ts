/**
 * Child server processes for the reliability suite: `node --import tsx src/server.ts` on a SQLite
 * file, as in production, started and stopped the way an operator would (signals), with the
 * resident memory read from /proc so growth can be measured without touching the server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PSEUDONYM_KEY, SECRET } from './tokens';

const ROOT = join(__dirname, '../../..');
// Start-up compiles nothing at run time (generated validators), but a loaded 2-core machine can
// still take several seconds; a minute means "it is not coming".
const START_TIMEOUT_MS = 60_000;

export interface ChildServer {
  /** Base of the FHIR API, e.g. http://127.0.0.1:41234/fhir. */
  fhir: string;
  /** Origin, e.g. http://127.0.0.1:41234 (for /healthz, /readyz). */
  origin: string;
  pid: number;
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whatever the server wrote to stderr (configuration errors, crashes). */
  stderr(): string;
}

const running = new Set<ChildProcess>();

/** A fresh temporary folder with a database file path in it; removed by `removeDataDir`. */
export function makeDataDir(prefix: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), `linkcare-rel-${prefix}-`));
  return { dir, file: join(dir, 'linkcare.sqlite') };
}

/** Removes a folder made by `makeDataDir`. */
export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Starts a server on `dbFile` and resolves once it prints its listening line and is ready. */
export async function startServer(dbFile: string, env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      // tsx keeps its transform cache in the temporary folder; sharing it keeps restarts quick.
      TMPDIR: process.env.TMPDIR ?? tmpdir(),
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: `sqlite:${dbFile}`,
      AUTH_JWT_SECRET: SECRET,
      PSEUDONYM_KEY,
      RATE_LIMIT_PER_MINUTE: '1000000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const fhir = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms: ${err}`)), START_TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (code ${code}, signal ${signal}): ${err}`));
    });
  });
  const origin = fhir.replace(/\/fhir$/, '');
  await waitReady(origin);
  return { fhir, origin, pid: child.pid!, child, exited, stderr: () => err };
}

/** Polls /readyz until start-up seeding is done (requests would wait for it anyway). */
async function waitReady(origin: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const res = await fetch(`${origin}/readyz`).catch(() => undefined);
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`server at ${origin} never became ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends `signal` and waits for the process to exit. */
export async function stopServer(s: ChildServer, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
  return s.exited;
}

/** Kills every child this process still has running (afterAll safety net; by pid, never by name). */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** The resident set size of a process in kB, from /proc/<pid>/status (VmRSS); undefined once gone. */
export function rssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the samples in kB. */
export function sampleRss(pid: number, everyMs = 250): { stop(): number[] } {
  const samples: number[] = [];
  const timer = setInterval(() => {
    const kb = rssKb(pid);
    if (kb !== undefined) samples.push(kb);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}
