/**
 * Configuration: read from the environment once at start-up, validated, then passed down.
 * Nothing else in the code reads process.env.
 */
import { DEFAULT_CLIENT_ID_TYPES, isSupportedType } from './fhir/resource-types';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string }
  | { kind: 'mongodb'; url: string };

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

/** Parses DATABASE_URL: `sqlite:<path>`, `sqlite::memory:`, `mongodb://…` or `mongodb+srv://…`. */
export function parseDatabaseUrl(raw: string): DatabaseConfig {
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length);
    if (!file) throw new ConfigError('DATABASE_URL sqlite: needs a path, e.g. sqlite:./data/linkcare.sqlite');
    return { kind: 'sqlite', file };
  }
  if (/^mongodb(\+srv)?:\/\/./.test(raw)) return { kind: 'mongodb', url: raw };
  throw new ConfigError('DATABASE_URL must start with sqlite:, mongodb:// or mongodb+srv://');
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
  return {
    port,
    host,
    baseUrl,
    baseUrlFromPort: !env.BASE_URL,
    database: parseDatabaseUrl(env.DATABASE_URL || 'sqlite:./data/linkcare.sqlite'),
    logLevel,
    production: nodeEnv === 'production',
    bodyLimitBytes: env.BODY_LIMIT ? parseSize('BODY_LIMIT', env.BODY_LIMIT) : 5 * 1024 ** 2,
    maxJsonDepth: integer(env, 'MAX_JSON_DEPTH', 64, 8, 1000),
    clientIdTypes,
  };
}
