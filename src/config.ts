/**
 * Configuration: read from the environment once at start-up, validated, then passed down.
 * Nothing else in the code reads process.env.
 */
import { isIP } from 'node:net';
import { dirname } from 'node:path';
import { DEFAULT_CLIENT_ID_TYPES, isSupportedType } from './fhir/resource-types';
import { parsePseudonymKey } from './privacy/uic';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string }
  | { kind: 'mongodb'; url: string; /** MONGODB_ALLOW_STANDALONE=1: development on a server without transactions. */ allowStandalone: boolean };

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/** How bearer tokens are verified. `key` is the HS256 secret or the PEM public key. */
export interface AuthConfig {
  algorithm: JwtAlgorithm;
  key: string;
  issuer?: string;
  audience?: string;
}

export interface Config {
  port: number;
  host: string;
  /** Public base of the FHIR API, used in fullUrl, Location and paging links. */
  baseUrl: string;
  /** True when BASE_URL was not given, so the server derives it from the port it listens on. */
  baseUrlFromPort: boolean;
  database: DatabaseConfig;
  logLevel: LogLevel;
  production: boolean;
  /** Largest accepted request body, in bytes. */
  bodyLimitBytes: number;
  /** Deepest accepted JSON nesting. */
  maxJsonDepth: number;
  /** Types for which PUT may create a resource with a client-chosen id. */
  clientIdTypes: string[];
  /** Token verification; undefined in development until `withDevSecrets` fills it in. */
  auth?: AuthConfig;
  /** Key of the keyed hash of UICs; undefined in development until `withDevSecrets`. */
  pseudonymKey?: Buffer;
  /** Where development secrets live (the embedded store's folder by default). */
  dataDir: string;
  /** Precision a Patient.birthDate may carry. */
  birthDatePrecision: 'year' | 'month';
  /** Browser origins allowed by CORS; empty = none. */
  corsOrigins: string[];
  /** Requests per minute per token subject. */
  rateLimitPerMinute: number;
  /** Refused (unauthenticated) requests per minute per client address; beyond it 429, not audited. */
  authFailuresPerMinute: number;
  /**
   * Which proxies' `X-Forwarded-For` names the client (express `trust proxy`): false = none (the
   * peer is the client), a hop count, or addresses/subnets (and loopback, linklocal, uniquelocal).
   */
  trustProxy: false | number | string[];
  /** Subscription endpoints may be loopback, private or link-local addresses (off in production by default). */
  subscriptionPrivateEndpoints: boolean;
  /**
   * How far V8 lets the heap grow past the live data before its next full collection, in percent
   * (0: V8's own adaptive factor, up to 4×). Lower keeps resident memory down for some CPU.
   */
  heapGrowthPercent: number;
  /** IANA time zone of the service directory's opening hours (`open-now`). */
  directoryTimeZone: string;
  /** How long finished bulk exports stay downloadable. */
  exportRetentionHours: number;
  /** Sites with fewer clients than this are generalised in de-identified exports. */
  exportSmallSiteClients: number;
  /** Counts from 1 to this are suppressed in released indicator extracts. */
  suppressionThreshold: number;
}

/** A bad configuration value; the server prints it and exits with code 78 (EX_CONFIG). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2 };

/** Parses sizes such as `5mb`, `512kb` or `1048576`. */
export function parseSize(name: string, raw: string): number {
  const m = /^(\d+)\s*(b|kb|mb|)$/i.exec(raw.trim());
  const n = m ? Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(n) || n < 1024 || n > 100 * 1024 ** 2) {
    throw new ConfigError(`${name} must be a size from 1kb to 100mb (e.g. 5mb), got "${raw}"`);
  }
  return n;
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Parses TRUST_PROXY: empty/`false`/`0` (trust nobody), a hop count 1–10, or a comma-separated list
 * of addresses, CIDR subnets and the names loopback, linklocal, uniquelocal. `true` is refused: it
 * would believe any client's X-Forwarded-For and let it pick the address it is rate-limited by.
 */
export function parseTrustProxy(raw: string | undefined): false | number | string[] {
  const value = (raw ?? '').trim();
  if (value === '' || value === 'false' || value === '0') return false;
  if (/^\d+$/.test(value)) {
    if (Number(value) > 10) throw new ConfigError(`TRUST_PROXY hop count must be from 0 to 10, got "${value}"`);
    return Number(value);
  }
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean);
  for (const e of entries) {
    if (PROXY_NAMES.includes(e)) continue;
    const [address, bits, ...rest] = e.split('/');
    const family = isIP(address!);
    const maxBits = family === 4 ? 32 : 128;
    if (!family || rest.length || (bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > maxBits))) {
      throw new ConfigError(`TRUST_PROXY must be a hop count or a list of proxy addresses, subnets, ${PROXY_NAMES.join(', ')}; got "${e}"`);
    }
  }
  return entries;
}

/** Parses a 0/1 switch; `fallback` when unset. */
function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== '0' && raw !== '1') throw new ConfigError(`${name} must be 0 or 1, got "${raw}"`);
  return raw === '1';
}

/** Parses DATABASE_URL: `sqlite:<path>`, `sqlite::memory:`, `mongodb://…` or `mongodb+srv://…`. */
export function parseDatabaseUrl(raw: string): DatabaseConfig {
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length);
    if (!file) throw new ConfigError('DATABASE_URL sqlite: needs a path, e.g. sqlite:./data/linkcare.sqlite');
    return { kind: 'sqlite', file };
  }
  if (/^mongodb(\+srv)?:\/\/./.test(raw)) return { kind: 'mongodb', url: raw, allowStandalone: false };
  throw new ConfigError('DATABASE_URL must start with sqlite:, mongodb:// or mongodb+srv://');
}

const ALGORITHMS: readonly JwtAlgorithm[] = ['HS256', 'RS256', 'ES256'];

/** Token verification settings; the algorithm is pinned, never taken from the token. */
function authConfig(env: NodeJS.ProcessEnv): AuthConfig | undefined {
  const secret = env.AUTH_JWT_SECRET;
  const publicKey = env.AUTH_JWT_PUBLIC_KEY;
  if (secret && publicKey) throw new ConfigError('Set AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY, not both');
  if (!secret && !publicKey) return undefined;
  const algorithm = (env.AUTH_JWT_ALG || (secret ? 'HS256' : 'RS256')) as JwtAlgorithm;
  if (!ALGORITHMS.includes(algorithm)) throw new ConfigError(`AUTH_JWT_ALG must be one of ${ALGORITHMS.join(', ')}`);
  if (secret) {
    if (algorithm !== 'HS256') throw new ConfigError('AUTH_JWT_SECRET goes with AUTH_JWT_ALG=HS256');
    if (Buffer.byteLength(secret) < 32) throw new ConfigError('AUTH_JWT_SECRET must be at least 32 bytes');
    return { algorithm, key: secret, issuer: env.AUTH_JWT_ISSUER || undefined, audience: env.AUTH_JWT_AUDIENCE || undefined };
  }
  if (algorithm === 'HS256') throw new ConfigError('AUTH_JWT_PUBLIC_KEY goes with AUTH_JWT_ALG=RS256 or ES256');
  const pem = publicKey!.replace(/\\n/g, '\n');
  if (!/-----BEGIN PUBLIC KEY-----/.test(pem)) throw new ConfigError('AUTH_JWT_PUBLIC_KEY must be a PEM public key');
  return { algorithm, key: pem, issuer: env.AUTH_JWT_ISSUER || undefined, audience: env.AUTH_JWT_AUDIENCE || undefined };
}

/** Reads and validates the configuration. Throws ConfigError on the first bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = env.NODE_ENV ?? 'development';
  if (!['development', 'production', 'test'].includes(nodeEnv)) {
    throw new ConfigError(`NODE_ENV must be development, production or test, got "${nodeEnv}"`);
  }
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const baseUrl = (env.BASE_URL || `http://localhost:${port}/fhir`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(baseUrl)) throw new ConfigError(`BASE_URL must be an http(s) URL, got "${baseUrl}"`);
  const clientIdTypes = env.CLIENT_ID_TYPES ? env.CLIENT_ID_TYPES.split(',').map((s) => s.trim()).filter(Boolean) : DEFAULT_CLIENT_ID_TYPES;
  for (const t of clientIdTypes) if (!isSupportedType(t)) throw new ConfigError(`CLIENT_ID_TYPES names an unsupported type "${t}"`);
  const parsedDatabase = parseDatabaseUrl(env.DATABASE_URL || 'sqlite:./data/linkcare.sqlite');
  const allowStandalone = env.MONGODB_ALLOW_STANDALONE === '1';
  if (allowStandalone && nodeEnv === 'production') throw new ConfigError('MONGODB_ALLOW_STANDALONE=1 is for development only: production needs a replica set');
  const database: DatabaseConfig = parsedDatabase.kind === 'mongodb' ? { ...parsedDatabase, allowStandalone } : parsedDatabase;
  const production = nodeEnv === 'production';
  const auth = authConfig(env);
  let pseudonymKey: Buffer | undefined;
  if (env.PSEUDONYM_KEY) {
    try {
      pseudonymKey = parsePseudonymKey(env.PSEUDONYM_KEY);
    } catch (err) {
      throw new ConfigError(`PSEUDONYM_KEY: ${(err as Error).message}`);
    }
  }
  if (production && !auth) throw new ConfigError('Production needs AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY');
  if (production && !pseudonymKey) throw new ConfigError('Production needs PSEUDONYM_KEY (32+ random bytes, base64 or hex)');
  const birthDatePrecision = (env.BIRTHDATE_PRECISION || 'year') as Config['birthDatePrecision'];
  if (!['year', 'month'].includes(birthDatePrecision)) throw new ConfigError('BIRTHDATE_PRECISION must be year or month');
  const corsOrigins = (env.CORS_ORIGINS || '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const o of corsOrigins) if (!/^https?:\/\/[^\s/]+$/.test(o)) throw new ConfigError(`CORS_ORIGINS has a bad origin "${o}"`);
  const directoryTimeZone = env.DIRECTORY_TIME_ZONE || 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: directoryTimeZone });
  } catch {
    throw new ConfigError(`DIRECTORY_TIME_ZONE must be an IANA time zone such as Africa/Nairobi, got "${directoryTimeZone}"`);
  }
  const rateLimitPerMinute = integer(env, 'RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000);
  return {
    port,
    host,
    baseUrl,
    baseUrlFromPort: !env.BASE_URL,
    database,
    logLevel,
    production,
    bodyLimitBytes: env.BODY_LIMIT ? parseSize('BODY_LIMIT', env.BODY_LIMIT) : 5 * 1024 ** 2,
    maxJsonDepth: integer(env, 'MAX_JSON_DEPTH', 64, 8, 1000),
    clientIdTypes,
    auth,
    pseudonymKey,
    dataDir: env.DATA_DIR || (database.kind === 'sqlite' && database.file !== ':memory:' ? dirname(database.file) : './data'),
    birthDatePrecision,
    corsOrigins,
    rateLimitPerMinute,
    authFailuresPerMinute: integer(env, 'AUTH_FAILURE_LIMIT_PER_MINUTE', Math.min(60, rateLimitPerMinute), 1, 1_000_000),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    subscriptionPrivateEndpoints: flag(env, 'SUBSCRIPTION_ALLOW_PRIVATE_ENDPOINTS', !production),
    heapGrowthPercent: integer(env, 'HEAP_GROWTH_PERCENT', 100, 0, 300),
    directoryTimeZone,
    exportRetentionHours: integer(env, 'EXPORT_RETENTION_HOURS', 24, 1, 8760),
    exportSmallSiteClients: integer(env, 'EXPORT_SMALL_SITE_CLIENTS', 10, 0, 1_000_000),
    suppressionThreshold: integer(env, 'SUPPRESSION_THRESHOLD', 4, 0, 1000),
  };
}
