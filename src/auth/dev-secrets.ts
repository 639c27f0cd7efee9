/**
 * Development only: when no key is configured, a random JWT secret and pseudonym key are created
 * once in the data folder (mode 0600) and reused, so `npm start` and `npm run token` agree.
 * Production never gets here: loadConfig refuses to start without configured keys.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config';

interface DevSecrets {
  jwtSecret: string;
  pseudonymKey: string;
}

/** The file holding the development secrets. */
export function devSecretsPath(config: Config): string {
  return join(config.dataDir, 'dev-secrets.json');
}

function loadOrCreate(path: string): DevSecrets {
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as DevSecrets;
  const secrets: DevSecrets = { jwtSecret: randomBytes(48).toString('base64'), pseudonymKey: randomBytes(32).toString('base64') };
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
  return secrets;
}

/** Fills in missing keys from the development secrets file; returns the config unchanged when complete. */
export function withDevSecrets(config: Config): Config {
  if (config.auth && config.pseudonymKey) return config;
  if (config.production) throw new Error('refusing development secrets in production');
  const secrets = loadOrCreate(devSecretsPath(config));
  return {
    ...config,
    auth: config.auth ?? { algorithm: 'HS256', key: secrets.jwtSecret },
    pseudonymKey: config.pseudonymKey ?? Buffer.from(secrets.pseudonymKey, 'base64'),
  };
}
