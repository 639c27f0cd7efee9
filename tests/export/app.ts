/** An app for export tests: the export module with small pages, its own data folder, optional file store. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { type Linkcare, createLinkcare } from '../../src/app';
import { MODULES } from '../../src/modules';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { createIndexer } from '../../src/search/indexer';
import { createResourceValidator } from '../../src/fhir/validation/validator';
import type { Role } from '../../src/auth/principal';
import type { Store } from '../../src/store/port';
import { BASE, TEST_PSEUDONYM_KEY, TEST_SECRET, bearer, testRegistry } from '../helpers/app';
import { createExportModule } from '../../src/export/module';
import { DEFAULT_OPTIONS, type ExportOptions } from '../../src/export/options';
import { runExportTurn } from '../../src/export/worker';
import { EXPORT_QUEUE } from '../../src/export/job';
import Database from 'better-sqlite3';
import { sqliteExportPages } from '../../src/store/sqlite/export-pages';

let validator: ReturnType<typeof createResourceValidator> | undefined;

export interface ExportApp {
  linkcare: Linkcare;
  store: Store;
  dataDir: string;
  options: ExportOptions;
  as(roles: Role[], org: string, sub?: string): ReturnType<typeof request.agent>;
  /** Claims the export job and runs one turn, as a worker would (for apps without workers). */
  turn(): Promise<boolean>;
  close(): Promise<void>;
}

/** A fresh data folder for an app (or for two apps sharing one store file). */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'linkcare-export-'));
}

/**
 * Starts an app; `file` reopens a store on disk, `workers: false` leaves turns to the test.
 * `rawPages` attaches the SQLite raw page reader (src/store/sqlite/export-pages.ts) to the store on
 * a read-only connection of its own, as the store offers it once `exportPage` is wired in.
 */
export function startExportApp(opts: { options?: Partial<ExportOptions>; workers?: boolean; dataDir?: string; file?: string; rawPages?: boolean } = {}): ExportApp {
  const dataDir = opts.dataDir ?? tempDir();
  const file = opts.file ?? (opts.rawPages ? join(dataDir, 'linkcare.sqlite') : ':memory:');
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'sqlite::memory:',
    BASE_URL: BASE,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    AUTH_JWT_SECRET: TEST_SECRET,
    PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
    RATE_LIMIT_PER_MINUTE: '1000000',
  });
  const registry = testRegistry();
  const store = openSqliteStore(file, { indexer: createIndexer(registry, BASE) });
  const rawReader = opts.rawPages ? new Database(file, { readonly: true }) : undefined;
  if (rawReader) {
    Object.assign(store, { exportPage: sqliteExportPages(rawReader) });
  }
  const options: ExportOptions = { ...DEFAULT_OPTIONS, pageSize: 2, pagesPerTurn: 1000, pollMs: 50, ...opts.options };
  const modules = MODULES.map((m) => (m.name === 'export' ? createExportModule(options) : m));
  validator ??= createResourceValidator();
  const linkcare = createLinkcare({ config, store, logger: pino({ level: 'silent' }), validator, registry, modules, workers: opts.workers });
  const log = pino({ level: 'silent' });
  return {
    linkcare,
    store,
    dataDir,
    options,
    as: (roles, org, sub) => request.agent(linkcare.app).set('Authorization', bearer(roles, org, sub ? { sub } : {})),
    async turn() {
      const [job] = await store.claimJobs(EXPORT_QUEUE, { now: new Date().toISOString(), leaseMs: options.leaseMs, limit: 1 });
      if (!job) return false;
      await runExportTurn(linkcare.ctx, job, log, options);
      return true;
    },
    async close() {
      await linkcare.stop();
      rawReader?.close();
      await store.close();
    },
  };
}

/** The path of a Content-Location (or file URL) on the test app. */
export function pathOf(url: string): string {
  return new URL(url).pathname;
}

/** Kicks off an export and returns its status path. */
export async function kickOff(agent: ReturnType<typeof request.agent>, url = '/fhir/$export', headers: Record<string, string> = {}): Promise<string> {
  const res = await agent.get(url).set({ Prefer: 'respond-async', Accept: 'application/fhir+json', ...headers });
  if (res.status !== 202) throw new Error(`kick-off ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return pathOf(res.headers['content-location']!);
}

export interface ManifestBody {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count: number }[];
  error: unknown[];
  extension?: Record<string, unknown>;
}

/** Polls until the export completes (200) and returns the manifest. */
export async function waitForManifest(agent: ReturnType<typeof request.agent>, status: string, timeoutMs = 10_000): Promise<ManifestBody> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const res = await agent.get(status);
    if (res.status === 200) return JSON.parse(res.text) as ManifestBody;
    if (res.status !== 202) throw new Error(`status: ${res.status} ${res.text}`);
    if (Date.now() > end) throw new Error('export did not finish');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Downloads every output file: type → parsed resources. */
export async function downloadAll(agent: ReturnType<typeof request.agent>, manifest: ManifestBody): Promise<Map<string, Record<string, unknown>[]>> {
  const out = new Map<string, Record<string, unknown>[]>();
  for (const f of manifest.output) {
    const res = await agent.get(pathOf(f.url)).buffer(true).parse((r, cb) => {
      let data = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (data += c));
      r.on('end', () => cb(null, data));
    });
    if (res.status !== 200) throw new Error(`download ${f.url}: ${res.status}`);
    const lines = (res.body as string).split('\n').filter(Boolean);
    out.set(f.type, lines.map((l) => JSON.parse(l) as Record<string, unknown>));
  }
  return out;
}

/** The raw text of every output file, joined (for "nothing of X appears anywhere" checks). */
export async function rawOutput(agent: ReturnType<typeof request.agent>, manifest: ManifestBody): Promise<string> {
  const files = await downloadAll(agent, manifest);
  return [...files.values()].flat().map((r) => JSON.stringify(r)).join('\n');
}
