/** One helper that builds an app on a fresh in-memory store, for HTTP tests. */
import pino from 'pino';
import request from 'supertest';
import type { Express } from 'express';
import { loadConfig, type Config } from '../../src/config';
import { createApp } from '../../src/app';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import type { Store } from '../../src/store/port';
import { createResourceValidator } from '../../src/fhir/validation/validator';
import { type SearchRegistry, loadSearchRegistry } from '../../src/search/registry';
import { createIndexer } from '../../src/search/indexer';

export const BASE = 'http://localhost:8080/fhir';

// One validator for the whole test file: compiling is the slow part.
let sharedValidator: ReturnType<typeof createResourceValidator> | undefined;
let sharedRegistry: SearchRegistry | undefined;

/** The registry, loaded once per test file. */
export function testRegistry(): SearchRegistry {
  return (sharedRegistry ??= loadSearchRegistry());
}

export interface TestApp {
  app: Express;
  store: Store;
  config: Config;
  registry: SearchRegistry;
  http: ReturnType<typeof request.agent>;
  logs: string[];
  close(): Promise<void>;
}

/** Starts an app on a fresh in-memory SQLite store with a captured logger. */
export function startTestApp(env: Record<string, string> = {}, store?: Store): TestApp {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:', BASE_URL: BASE, LOG_LEVEL: 'info', ...env });
  const registry = testRegistry();
  const s = store ?? openSqliteStore(':memory:', { indexer: createIndexer(registry, BASE) });
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  sharedValidator ??= createResourceValidator();
  const app = createApp({ config, store: s, logger, validator: sharedValidator, registry });
  return { app, store: s, config, registry, http: request.agent(app), logs, close: () => s.close() };
}

/** Content type for FHIR JSON bodies. */
export const FHIR_JSON = 'application/fhir+json';
