/**
 * Mixed load at saturation (issue #9): reads, searches, creates, updates and transactions from
 * autocannon against one server process for RELIABILITY_LOAD_SECONDS (60 in CI). No errors, no
 * unbounded memory growth (the server's RSS in the second half against the first), p99 printed.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { client } from './helpers/http';
import { envInt, prng, runSeed } from './helpers/random';
import { type ChildServer, killAll, makeDataDir, removeDataDir, sampleRss, startServer, stopServer } from './helpers/server';
import { bearer } from './helpers/tokens';

const SECONDS = envInt('RELIABILITY_LOAD_SECONDS', 60);
const CONNECTIONS = 16;
const data = makeDataDir('load');
let server: ChildServer;
afterAll(async () => {
  if (server) await stopServer(server);
  killAll();
  removeDataDir(data.dir);
});

/** A mix close to a working day: mostly reads and searches, a steady stream of writes. */
function mix(patients: string[], orgs: string[], rng: ReturnType<typeof prng>): () => { method: 'GET' | 'POST' | 'PUT'; path: string; body?: string } {
  return () => {
    const roll = rng.next();
    const patient = rng.pick(patients);
    if (roll < 0.3) return { method: 'GET', path: `/fhir/Patient/${patient}` };
    if (roll < 0.55) return { method: 'GET', path: `/fhir/Observation?subject=Patient/${patient}&_count=10&_sort=-date` };
    if (roll < 0.62) return { method: 'GET', path: `/fhir/Patient?gender=female&_count=20` };
    if (roll < 0.75) return { method: 'POST', path: '/fhir/Patient', body: JSON.stringify({ resourceType: 'Patient', gender: rng.pick(['female', 'male', 'other']), birthDate: String(rng.int(1960, 2005)) }) };
    if (roll < 0.87) {
      const body = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, subject: { reference: `Patient/${patient}` }, effectiveDateTime: '2025-03-01T10:00:00Z', valueQuantity: { value: rng.int(90, 160), unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } };
      return { method: 'POST', path: '/fhir/Observation', body: JSON.stringify(body) };
    }
    if (roll < 0.95) {
      const id = rng.pick(orgs);
      return { method: 'PUT', path: `/fhir/Organization/${id}`, body: JSON.stringify({ resourceType: 'Organization', id, name: `site ${rng.int(0, 1e6)}` }) };
    }
    const entry = Array.from({ length: 10 }, () => ({ fullUrl: `urn:uuid:${randomUUID()}`, resource: { resourceType: 'Organization', name: 'outreach point' }, request: { method: 'POST', url: 'Organization' } }));
    return { method: 'POST', path: '/fhir', body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) };
  };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

test(`mixed load for ${SECONDS} s: no errors, bounded memory, p99 reported`, async () => {
  server = await startServer(data.file);
  const c = client(server.fhir);
  const patients: string[] = [];
  const orgs: string[] = [];
  for (let i = 0; i < 20; i++) {
    const p = await c.post('Patient', { resourceType: 'Patient', gender: 'female' });
    expect(p.status).toBe(201);
    patients.push(p.body.id);
    const o = await c.post('Organization', { resourceType: 'Organization', name: `site ${i}` });
    expect(o.status).toBe(201);
    orgs.push(o.body.id);
  }
  const next = mix(patients, orgs, prng(runSeed()));
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  const headers = { authorization: bearer(['clinician', 'admin']), accept: 'application/fhir+json' };
  const rss = sampleRss(server.pid, 250);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: server.origin,
        connections: CONNECTIONS,
        duration: SECONDS,
        timeout: 30,
        // A fresh headers object per request: autocannon writes Content-Length into the object it
        // is given, and a stale one on a following GET would leave the server waiting for a body.
        requests: [{ setupRequest: (req) => {
          const r = next();
          return { ...req, ...r, headers: r.body === undefined ? { ...headers } : { ...headers, 'content-type': 'application/fhir+json' } };
        } }],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, status) => statuses.set(status, (statuses.get(status) ?? 0) + 1));
    instance.on('reqError', (err) => failures.push(err.message));
  });
  const samples = rss.stop();
  const half = Math.floor(samples.length / 2);
  const firstHalf = samples.slice(0, half);
  const secondHalf = samples.slice(half);
  const mb = (kb: number) => (kb / 1024).toFixed(0);
  process.stdout.write(
    `load: ${SECONDS} s, ${CONNECTIONS} connections, ${result.requests.total} requests (${result.requests.average.toFixed(0)}/s), ` +
      `latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
      `server RSS first half mean ${mb(mean(firstHalf))} MB (max ${mb(Math.max(...firstHalf))}), second half mean ${mb(mean(secondHalf))} MB (max ${mb(Math.max(...secondHalf))})\n`,
  );
  expect(failures.slice(0, 5)).toEqual([]);
  expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx }).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
  expect(result.requests.total).toBeGreaterThan(SECONDS * 10);
  // No unbounded growth: caches fill early and then hold; a leak keeps climbing. Allow the
  // second half a quarter more than the first, plus room for SQLite's page caches to fill.
  expect(mean(secondHalf)).toBeLessThan(mean(firstHalf) * 1.25 + 64 * 1024);
  expect(Math.max(...secondHalf)).toBeLessThan(Math.max(...firstHalf) * 1.5 + 64 * 1024);
  expect(await stopServer(server)).toEqual({ code: 0, signal: null });
});
