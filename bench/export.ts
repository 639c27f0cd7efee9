/**
 * Export throughput (resources/s) against baselines measured in the same run on the same rows:
 *   raw SQL    — reading every current version's JSON straight from SQLite, no paging, no policy;
 *   port pages — the store port's keyset pages with the clinician's visibility, in the worker's
 *                (lastUpdated, rid) order;
 *   export     — the export worker (pages + NDJSON files + progress commits), identified and
 *                de-identified; identified also with the raw page reader
 *                (src/store/sqlite/export-pages.ts) attached to the store, as the SQLite store does
 *                once it offers `exportPage` (until then the bench attaches it on its own connection).
 * Run: `npx tsx bench/export.ts` (BENCH_EXPORT_CLIENTS, BENCH_EXPORT_OBS_PER_CLIENT to resize;
 * BENCH_EXPORT_RUNS=n times each scenario n times and keeps the fastest, for a noisy machine;
 * BENCH_EXPORT_PAGE_SIZE overrides the worker's page size).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pino from 'pino';
import request from 'supertest';
import { loadConfig } from '../src/config';
import { createLinkcare } from '../src/app';
import { MODULES } from '../src/modules';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store';
import { createIndexer } from '../src/search/indexer';
import { loadSearchRegistry } from '../src/search/registry';
import { signDevToken } from '../src/auth/jwt';
import { visibility } from '../src/policy/access';
import type { Role } from '../src/auth/principal';
import { createExportModule } from '../src/export/module';
import { DEFAULT_OPTIONS } from '../src/export/options';
import { EXPORT_QUEUE } from '../src/export/job';
import { runExportTurn } from '../src/export/worker';
import { timeWhere } from '../src/export/scope';
import { sqliteExportPages } from '../src/store/sqlite/export-pages';
import type { Store } from '../src/store/port';
import type { Predicate } from '../src/search/plan';
import { parseDateRange } from '../src/search/ranges';

const CLIENTS = Number(process.env.BENCH_EXPORT_CLIENTS ?? 2000);
const OBS = Number(process.env.BENCH_EXPORT_OBS_PER_CLIENT ?? 10);
const RUNS = Math.max(1, Number(process.env.BENCH_EXPORT_RUNS ?? 1));
const ORG = 'org-1';
const BASE = 'http://localhost:8080/fhir';
const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const log = (s: string) => process.stderr.write(`${s}\n`);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'linkcare-export-bench-'));
  const file = join(dir, 'bench.sqlite');
  const registry = loadSearchRegistry();
  const store = openSqliteStore(file, { indexer: createIndexer(registry, BASE) });
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: `sqlite:${file}`, BASE_URL: BASE, DATA_DIR: dir, LOG_LEVEL: 'silent', AUTH_JWT_SECRET: SECRET, PSEUDONYM_KEY: Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 53 + 7) % 256)).toString('base64') });
  const options = { ...DEFAULT_OPTIONS, pagesPerTurn: 1_000_000, ...(process.env.BENCH_EXPORT_PAGE_SIZE ? { pageSize: Number(process.env.BENCH_EXPORT_PAGE_SIZE) } : {}) };
  const modules = MODULES.map((m) => (m.name === 'export' ? createExportModule(options) : m));
  const linkcare = createLinkcare({ config, store, registry, modules, workers: false, logger: pino({ level: 'silent' }) });
  try {
    await linkcare.ready;
    log(`generating ${CLIENTS} clients × ${OBS} observations…`);
    for (let start = 0; start < CLIENTS; start += 200) {
      await store.unitOfWork(async (tx) => {
        for (let i = start; i < Math.min(CLIENTS, start + 200); i++) {
          const pid = randomUUID();
          await tx.put({ resourceType: 'Patient', id: pid, gender: 'female', birthDate: '1990', identifier: [{ system: 'https://linkcare.example.org/fhir/sid/client-code', value: `C${i}` }] }, { custodian: ORG, patient: pid });
          await tx.enrol(pid, ORG);
          for (let j = 0; j < OBS; j++) {
            await tx.put({
              resourceType: 'Observation', id: randomUUID(), status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '23876-6' }], text: 'viral load' },
              subject: { reference: `Patient/${pid}` }, effectiveDateTime: `2024-0${1 + (j % 9)}-1${j % 10}T10:00:00Z`, valueQuantity: { value: 40 * j, unit: 'copies/mL' }, note: [{ text: 'n' }],
            }, { custodian: ORG, patient: pid });
          }
        }
      });
    }
    const total = CLIENTS * (1 + OBS);
    const rows: [string, number, number][] = [];
    const timed = async (name: string, run: () => Promise<number>) => {
      let best = 0;
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        const n = await run();
        const s = (performance.now() - t0) / 1000;
        if (n !== total) throw new Error(`${name}: ${n} resources, expected ${total}`);
        best = Math.max(best, n / s);
        log(`${name}: ${n} in ${s.toFixed(2)} s`);
      }
      rows.push([name, total, best]);
    };

    await timed('raw SQL read + JSON.parse (baseline)', async () => {
      const db = new Database(file, { readonly: true });
      let n = 0;
      for (const type of ['Patient', 'Observation']) {
        for (const r of db.prepare('SELECT v.content AS json FROM resources r JOIN versions v ON v.seq = r.seq WHERE r.type = ? AND r.deleted = 0').iterate(type) as Iterable<{ json: string }>) {
          if (JSON.parse(r.json)) n++;
        }
      }
      db.close();
      return n;
    });
    const principal = { sub: 'bench', org: ORG, roles: ['clinician' as Role] };
    await timed(`port pages, ${options.pageSize}/page (baseline)`, async () => {
      let n = 0;
      const window = timeWhere({ transactionTime: new Date().toISOString() });
      for (const type of ['Patient', 'Observation']) {
        let cursor: string | undefined;
        let from: Predicate[] = [];
        do {
          const page = await store.search({
            types: [type], where: [...window, ...from], sort: [{ param: '_lastUpdated', descending: false }], count: options.pageSize, total: 'none',
            visibility: visibility(principal), ...(cursor ? { cursor } : {}),
          });
          n += page.matches.length;
          cursor = page.nextCursor;
          // The worker's lower bound: where the index range of the next page starts (src/export/page.ts).
          const last = page.matches[page.matches.length - 1]?.lastUpdated;
          from = last ? [{ kind: 'lastUpdated', prefix: 'ge', range: parseDateRange(last)! }] : [];
        } while (cursor);
      }
      return n;
    });
    const rawReader = new Database(file, { readonly: true });
    const withRaw = (on: boolean) => {
      const exportPage = sqliteExportPages(rawReader);
      if (on) Object.assign(store, { exportPage });
      else delete (store as Store & { exportPage?: unknown }).exportPage;
    };
    const scenarios: [string, Role[], boolean][] = [
      ['export, identified', ['clinician'], false],
      ['export, identified, raw pages', ['clinician'], true],
      ['export, de-identified', ['reporting'], false],
    ];
    for (const [name, roles, raw] of scenarios) {
      withRaw(raw);
      await timed(name, async () => {
        const token = signDevToken(SECRET, { sub: `bench-${roles[0]}`, org: ORG, roles });
        const res = await request(linkcare.app).get('/fhir/$export?_type=Patient,Observation').set({ Authorization: `Bearer ${token}`, Prefer: 'respond-async' });
        if (res.status !== 202) throw new Error(res.text);
        for (;;) {
          const [job] = await store.claimJobs(EXPORT_QUEUE, { now: new Date().toISOString(), leaseMs: 600_000, limit: 1 });
          if (!job) break;
          await runExportTurn(linkcare.ctx, job, pino({ level: 'silent' }), options);
        }
        const done = await store.getJob(res.headers['content-location']!.split('/').pop()!);
        return (done!.result as { manifest: { output: { count: number }[] } }).manifest.output.reduce((s, o) => s + o.count, 0);
      });
    }
    withRaw(false);
    rawReader.close();
    const base = rows[0]![2];
    console.log(`\n| scenario (${total} resources) | resources/s | vs raw SQL |\n|---|---:|---:|`);
    for (const [name, , rate] of rows) console.log(`| ${name} | ${Math.round(rate)} | ${(rate / base).toFixed(2)}× |`);
    console.log(`\nheap used at the end: ${(process.memoryUsage().heapUsed / 1024 ** 2).toFixed(0)} MB (pages of ${options.pageSize}; files streamed)`);
  } finally {
    await linkcare.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
