/** One helper that builds an app on a fresh in-memory store and mints tokens, for HTTP tests. */
import pino from 'pino';
import request from 'supertest';
import type { Express } from 'express';
import { loadConfig, type Config } from '../../src/config';
import { type Linkcare, createLinkcare } from '../../src/app';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import type { Store } from '../../src/store/port';
import { createResourceValidator } from '../../src/fhir/validation/validator';
import { type SearchRegistry, loadSearchRegistry } from '../../src/search/registry';
import { createIndexer } from '../../src/search/indexer';
import { signDevToken } from '../../src/auth/jwt';
import { lazyMongoStore, testStoreKind } from './lazy-store';
import type { Role } from '../../src/auth/principal';

export const BASE = 'http://localhost:8080/fhir';
export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';
export const TEST_PSEUDONYM_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256)).toString('base64');
/** The organisation the default test caller acts for. */
export const TEST_ORG = 'test-org';

// One validator and registry per test file: building them is the slow part.
let sharedValidator: ReturnType<typeof createResourceValidator> | undefined;
let sharedRegistry: SearchRegistry | undefined;

/** The registry, loaded once per test file. */
export function testRegistry(): SearchRegistry {
  return (sharedRegistry ??= loadSearchRegistry());
}

/** A signed token for a caller of `org` with `roles`. */
export function token(roles: Role[], org = TEST_ORG, opts: { sub?: string; scope?: string; ttlSeconds?: number } = {}): string {
  return signDevToken(TEST_SECRET, { sub: opts.sub ?? `user-${roles.join('-')}-${org}`, org, roles, scope: opts.scope, ttlSeconds: opts.ttlSeconds });
}

/** `Authorization` header value for a caller. */
export function bearer(roles: Role[], org = TEST_ORG, opts: { sub?: string; scope?: string } = {}): string {
  return `Bearer ${token(roles, org, opts)}`;
}

export interface TestApp {
  app: Express;
  store: Store;
  config: Config;
  registry: SearchRegistry;
  /** An agent acting as a clinician and admin of TEST_ORG. */
  http: ReturnType<typeof request.agent>;
  /** An agent acting with the given roles for the given organisation. */
  as(roles: Role[], org?: string, opts?: { sub?: string; scope?: string }): ReturnType<typeof request.agent>;
  logs: string[];
  /** The instance (context, readiness, background workers). */
  linkcare: Linkcare;
  /** Stops the workers and closes the store. */
  close(): Promise<void>;
}

/** The test configuration (in-memory store, test secrets), with `env` overriding any of it. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'sqlite::memory:',
    BASE_URL: BASE,
    LOG_LEVEL: 'info',
    AUTH_JWT_SECRET: TEST_SECRET,
    PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
    // Tests fire many requests from one address; the limiter has its own tests.
    RATE_LIMIT_PER_MINUTE: '1000000',
    ...env,
  });
}

/** Starts an app on a fresh in-memory SQLite store with a captured logger. */
export function startTestApp(env: Record<string, string> = {}, store?: Store): TestApp {
  const config = testConfig(env);
  const registry = testRegistry();
  const indexer = createIndexer(registry, BASE);
  const s = store ?? (testStoreKind() === 'mongodb' ? lazyMongoStore(indexer) : openSqliteStore(':memory:', { indexer }));
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  sharedValidator ??= createResourceValidator();
  const linkcare = createLinkcare({ config, store: s, logger, validator: sharedValidator, registry });
  const { app } = linkcare;
  const as = (roles: Role[], org = TEST_ORG, opts: { sub?: string; scope?: string } = {}) =>
    request.agent(app).set('Authorization', bearer(roles, org, opts));
  return { app, store: s, config, registry, http: as(['clinician', 'admin']), as, logs, linkcare, close: async () => {
    await linkcare.stop();
    await s.close();
  } };
}

/** Content type for FHIR JSON bodies. */
export const FHIR_JSON = 'application/fhir+json';
