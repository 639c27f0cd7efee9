/** The real server process: start-up message, config errors, graceful shutdown. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { TEST_PSEUDONYM_KEY, TEST_SECRET, bearer } from '../helpers/app';

const ROOT = join(__dirname, '../..');

function startServer(env: Record<string, string>): { child: ChildProcess; url: Promise<string>; exit: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      PORT: '0',
      DATABASE_URL: 'sqlite::memory:',
      AUTH_JWT_SECRET: TEST_SECRET,
      PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`exited before listening: ${err}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url, exit, stderr: () => err };
}

test('prints its URL, answers with links on its real port, and stops cleanly on SIGTERM', async () => {
  const s = startServer({});
  const url = await s.url;
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fhir$/);
  const port = new URL(url).port;
  const res = await fetch(`${url}/Organization`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json', Authorization: bearer(['admin']) }, body: '{"resourceType":"Organization","name":"x"}' });
  expect(res.status).toBe(201);
  expect(res.headers.get('location')).toContain(`localhost:${port}/fhir/Organization/`);
  expect((await fetch(url.replace('/fhir', '/readyz'))).status).toBe(200);
  s.child.kill('SIGTERM');
  expect(await s.exit).toBe(0);
}, 30_000);

test('in-flight requests finish during shutdown', async () => {
  const s = startServer({});
  const url = await s.url;
  const body = JSON.stringify({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: Array.from({ length: 300 }, () => ({ resource: { resourceType: 'Organization', name: 'x' }, request: { method: 'POST', url: 'Organization' } })),
  });
  const pending = fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json', Authorization: bearer(['admin']) }, body });
  await new Promise((r) => setTimeout(r, 20));
  s.child.kill('SIGTERM');
  const res = await pending;
  expect(res.status).toBe(200);
  expect(((await res.json()) as { entry: unknown[] }).entry).toHaveLength(300);
  expect(await s.exit).toBe(0);
}, 30_000);

test('a bad configuration value stops start-up with a clear message and exit code 78', async () => {
  const s = startServer({ PORT: 'eighty' });
  s.url.catch(() => undefined);
  expect(await s.exit).toBe(78);
  expect(s.stderr()).toContain('PORT must be a whole number');
}, 30_000);
