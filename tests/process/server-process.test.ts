/** The real server process: start-up message, config errors, graceful shutdown. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { connect } from 'node:net';
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

test('requests the HTTP parser refuses get an OperationOutcome too: oversized headers 431, a malformed request 400', async () => {
  const s = startServer({});
  const { hostname, port } = new URL(await s.url);
  const raw = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.end(text));
      let got = '';
      socket.on('data', (d) => (got += d.toString()));
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
    });
  const big = await raw(`GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  expect(big).toMatch(/^HTTP\/1\.1 431 /);
  expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4)).resourceType).toBe('OperationOutcome');
  // HEAD: the same status, and no body, which the client would take for the next response.
  const head = await raw(`HEAD /fhir/metadata HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  expect(head).toMatch(/^HTTP\/1\.1 431 /);
  expect(head.endsWith('\r\n\r\n')).toBe(true);
  const bad = await raw('NOT A REQUEST\r\n\r\n');
  expect(bad).toMatch(/^HTTP\/1\.1 400 /);
  expect(JSON.parse(bad.slice(bad.indexOf('\r\n\r\n') + 4)).issue[0].code).toBe('structure');
  s.child.kill('SIGTERM');
  expect(await s.exit).toBe(0);
}, 30_000);
