/**
 * Hostile input (issue #9): a seeded fast-check run of at least 10,000 malformed requests against
 * one server process over keep-alive loopback. No 5xx, no crash, no internals in any answer,
 * nothing stored, and the server's memory stays bounded.
 */
import { Agent, request } from 'node:http';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { type HostileRequest, hostileRequest, leaksInternals } from './helpers/hostile';
import { envInt, runSeed } from './helpers/random';
import { type ChildServer, killAll, makeDataDir, removeDataDir, rssKb, sampleRss, startServer, stopServer } from './helpers/server';
import { bearer } from './helpers/tokens';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { verifyAuditChain } from '../../src/audit/verify';

const REQUESTS = envInt('RELIABILITY_FUZZ_REQUESTS', 10_000);
const SOCKETS = 8;
const CHUNK = 250;
const data = makeDataDir('fuzz');
let server: ChildServer;
afterAll(async () => {
  if (server) await stopServer(server);
  killAll();
  removeDataDir(data.dir);
});

interface Answer {
  status: number;
  text: string;
}

/** Sends one request over the shared keep-alive agent; resolves with the status and (capped) body. */
function send(agent: Agent, origin: URL, r: HostileRequest, auth: string | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...r.headers };
    if (auth && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) headers.Authorization = auth;
    if (r.body) headers['Content-Length'] = String(r.body.length);
    const req = request({ agent, host: origin.hostname, port: origin.port, method: r.method, path: r.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        // Only the start matters for the checks; the rest is drained.
        if (size < 65536) chunks.push(d);
        size += d.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/** Rows that a stored write would add, by table and resource type (AuditEvents are expected). */
function storedCounts(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const out: Record<string, number> = {};
    for (const row of db.prepare("SELECT type, COUNT(*) AS n FROM versions WHERE type <> 'AuditEvent' GROUP BY type").all() as { type: string; n: number }[]) out[`versions.${row.type}`] = row.n;
    for (const table of ['enrolments', 'pseudonyms', 'jobs']) out[table] = (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    out.resources = (db.prepare("SELECT COUNT(*) AS n FROM resources WHERE type <> 'AuditEvent'").get() as { n: number }).n;
    return out;
  } finally {
    db.close();
  }
}

test(`${REQUESTS} hostile requests: no 5xx, no crash, no leaks, nothing stored, bounded memory`, async () => {
  const seed = runSeed();
  server = await startServer(data.file);
  const origin = new URL(server.origin);
  const before = storedCounts(data.file);
  // Idle sockets are dropped before the server's 5 s keep-alive timeout, so a request never races
  // the server closing an idle connection (an ECONNRESET that says nothing about the server).
  const agent = new Agent({ keepAlive: true, maxSockets: SOCKETS, timeout: 4_000 });
  const auth = bearer(['clinician', 'admin']);
  const failures: string[] = [];
  const byKind = new Map<string, { n: number; ms: number; max: number }>();
  let refusedByClient = 0;
  let parserRefusals = 0;
  let sent = 0;
  const rss = sampleRss(server.pid, 200);
  let warmRss = 0;
  const started = Date.now();

  for (let chunk = 0; sent < REQUESTS; chunk++) {
    // Generated chunk by chunk (each from its own derived seed) so huge bodies never pile up.
    const batch = fc.sample(hostileRequest, { seed: seed + chunk, numRuns: Math.min(CHUNK, REQUESTS - sent) });
    let next = 0;
    await Promise.all(
      Array.from({ length: SOCKETS }, async () => {
        while (next < batch.length) {
          const r = batch[next++]!;
          // One in twenty goes without a token: the refusal path must be as robust.
          const useAuth = (sent + next) % 20 === 0 ? undefined : auth;
          let answer: Answer;
          const t0 = Date.now();
          try {
            answer = await send(agent, origin, r, useAuth);
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code ?? '';
            // node:http itself refuses some header values and paths before sending: not the server's concern.
            if (code.startsWith('ERR_INVALID') || code === 'ERR_UNESCAPED_CHARACTERS') {
              refusedByClient++;
              continue;
            }
            failures.push(`${r.kind}: ${r.method} ${r.path.slice(0, 120)} → no answer (${code || (err as Error).message})`);
            continue;
          }
          const ms = Date.now() - t0;
          const k = byKind.get(r.kind) ?? { n: 0, ms: 0, max: 0 };
          byKind.set(r.kind, { n: k.n + 1, ms: k.ms + ms, max: Math.max(k.max, ms) });
          const what = `${r.kind}: ${r.method} ${r.path.slice(0, 120)} → ${answer.status}`;
          // Node's HTTP parser answers oversized headers (431) and unparseable requests (400) itself,
          // before the application, with an empty body: a refusal, just not an OperationOutcome.
          if ((answer.status === 431 || answer.status === 400) && answer.text === '') parserRefusals++;
          // Every write here is malformed: accepting one is the bug, shown with its body to reproduce it.
          else if (answer.status < 300 && ['POST', 'PUT', 'PATCH'].includes(r.method)) failures.push(`${what} accepted: ${r.body?.toString('utf8').slice(0, 300)}`);
          else if (answer.status >= 500 || answer.status < 100) failures.push(`${what} ${answer.text.slice(0, 300)}`);
          else if (leaksInternals(answer.text)) failures.push(`${what} leaks internals: ${answer.text.slice(0, 300)}`);
          else if (answer.status >= 400 && r.method !== 'HEAD' && !answer.text.includes('"resourceType":"OperationOutcome"')) {
            failures.push(`${what} without an OperationOutcome: ${answer.text.slice(0, 200)}`);
          }
        }
      }),
    );
    sent += batch.length;
    // Warm: after a tenth of the run (at most 1,000 requests) the JIT and caches have settled.
    if (!warmRss && sent >= Math.min(1000, REQUESTS / 10)) warmRss = rssKb(server.pid) ?? 0;
    expect(server.child.exitCode).toBeNull();
  }
  const seconds = (Date.now() - started) / 1000;
  agent.destroy();
  const samples = rss.stop();
  const endRss = rssKb(server.pid) ?? 0;
  const peak = Math.max(...samples);
  process.stdout.write(
    `fuzz: ${sent} requests (seed ${seed}) in ${seconds.toFixed(1)} s; ${refusedByClient} refused by node:http itself; ` +
      `${parserRefusals} refused by the HTTP parser; server RSS warm ${(warmRss / 1024).toFixed(0)} MB, peak ${(peak / 1024).toFixed(0)} MB, end ${(endRss / 1024).toFixed(0)} MB\n` +
      `fuzz: by kind (count, mean ms, max ms): ${[...byKind].map(([kind, v]) => `${kind} ${v.n}/${(v.ms / v.n).toFixed(1)}/${v.max}`).join(', ')}\n`,
  );

  if (failures.length) process.stdout.write(`fuzz: ${failures.length} failures, first 50:\n${failures.slice(0, 50).join('\n')}\n`);
  expect(failures.slice(0, 20)).toEqual([]);
  // Almost every request reached the server.
  expect(refusedByClient).toBeLessThan(sent / 10);
  // Still alive and well.
  expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
  // Nothing stored: only AuditEvents were added.
  expect(storedCounts(data.file)).toEqual(before);
  // Bounded memory: hostile bodies are refused before they are held, so no lasting growth.
  expect(peak).toBeLessThan(1024 * 1024);
  expect(endRss - warmRss).toBeLessThan(200 * 1024);

  expect(await stopServer(server)).toEqual({ code: 0, signal: null });
  const store = openSqliteStore(data.file);
  const chain = await verifyAuditChain(store);
  await store.close();
  expect(chain.problems).toEqual([]);
});
