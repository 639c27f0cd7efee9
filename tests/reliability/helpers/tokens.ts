/**
 * Secrets and bearer tokens for the reliability suite's child servers. One random secret per
 * test process: every child started by a test file shares it, so tokens survive restarts.
 */
import { randomBytes } from 'node:crypto';
import { signDevToken } from '../../../src/auth/jwt';
import type { Role } from '../../../src/auth/principal';

/** HS256 secret the child servers verify tokens with. */
export const SECRET = randomBytes(48).toString('base64');
/** Key of the keyed UIC hash (src/privacy/uic.ts), 32 random bytes. */
export const PSEUDONYM_KEY = randomBytes(32).toString('base64');
/** The organisation the default caller acts for. */
export const ORG = 'reliability-org';

/** `Authorization` header value for a caller of `org` with `roles`, valid for two hours. */
export function bearer(roles: Role[], org = ORG): string {
  return `Bearer ${signDevToken(SECRET, { sub: `rel-${roles.join('-')}-${org}`, org, roles, ttlSeconds: 7200 })}`;
}
