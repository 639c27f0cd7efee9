/**
 * What every scenario shares: the secrets the linkcare child is started with, bearer tokens per
 * role, and the request headers. The server runs as in production: authentication, the access
 * policy and the audit trail are all on, so every figure includes them.
 */
import { randomBytes } from 'node:crypto';
import { signDevToken } from '../../src/auth/jwt';
import type { Role } from '../../src/auth/principal';

/** Fresh per run: nothing the bench signs outlives it. */
export const BENCH_SECRET = randomBytes(48).toString('base64');
export const BENCH_PSEUDONYM_KEY = randomBytes(32).toString('base64');

/** Headers of a FHIR JSON request made by `roles` at `org` (token valid for the whole run). */
export function authHeaders(roles: Role[], org: string, sub = `bench-${roles.join('-')}`): Record<string, string> {
  return {
    accept: 'application/fhir+json',
    authorization: `Bearer ${signDevToken(BENCH_SECRET, { sub, org, roles, ttlSeconds: 6 * 3600 })}`,
  };
}

/** The same plus a FHIR JSON body. */
export const withBody = (headers: Record<string, string>): Record<string, string> => ({ ...headers, 'content-type': 'application/fhir+json' });

/** Cycles through a list forever. */
export function rotate<T>(items: T[]): () => T {
  if (!items.length) throw new Error('nothing to rotate through');
  let i = 0;
  return () => items[i++ % items.length]!;
}
