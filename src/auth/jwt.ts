/**
 * Bearer token verification with jsonwebtoken. The algorithm is pinned by configuration (no
 * `none`, no HS/RS confusion); `exp` is required; `nbf`, `iss` and `aud` are checked when set.
 * Verified tokens are cached until they expire: verification is a pure function of the token.
 */
import jwt from 'jsonwebtoken';
import type { AuthConfig } from '../config';
import { ID_PATTERN } from '../fhir/resource-types';
import { type Principal, ROLES, type Role, parseScopes } from './principal';

const CACHE_SIZE = 10_000;
const CLOCK_TOLERANCE_S = 5;

/** Why a token was refused; kept for the log, never sent to the client. */
export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

function principalFrom(payload: jwt.JwtPayload): Principal {
  if (typeof payload.exp !== 'number') throw new TokenError('exp missing');
  if (typeof payload.sub !== 'string' || !payload.sub || payload.sub.length > 256) throw new TokenError('sub missing');
  const org = payload.org as unknown;
  if (typeof org !== 'string' || !ID_PATTERN.test(org)) throw new TokenError('org missing');
  const roles = payload.roles as unknown;
  if (!Array.isArray(roles) || !roles.length || !roles.every((r) => ROLES.includes(r as Role))) throw new TokenError('roles invalid');
  return { sub: payload.sub, org, roles: [...new Set(roles as Role[])], scopes: parseScopes(payload.scope) };
}

/** Builds a verifier for the configured key; throws TokenError on any problem. */
export function createTokenVerifier(auth: AuthConfig, now: () => number = Date.now): (token: string) => Principal {
  const cache = new Map<string, { principal: Principal; exp: number }>();
  const options: jwt.VerifyOptions = {
    algorithms: [auth.algorithm],
    clockTolerance: CLOCK_TOLERANCE_S,
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
  };
  return (token) => {
    const hit = cache.get(token);
    if (hit && hit.exp * 1000 > now()) return hit.principal;
    let payload: jwt.JwtPayload;
    try {
      const decoded = jwt.verify(token, auth.key, { ...options, clockTimestamp: Math.floor(now() / 1000) });
      if (typeof decoded === 'string') throw new TokenError('payload is not an object');
      payload = decoded;
    } catch (err) {
      throw err instanceof TokenError ? err : new TokenError((err as Error).message);
    }
    const principal = principalFrom(payload);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(token, { principal, exp: payload.exp! });
    return principal;
  };
}

export interface TokenRequest {
  sub: string;
  org: string;
  roles: Role[];
  scope?: string;
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
}

/** Signs a token with an HS256 secret (development tooling and tests only). */
export function signDevToken(secret: string, t: TokenRequest): string {
  return jwt.sign(
    { org: t.org, roles: t.roles, ...(t.scope ? { scope: t.scope } : {}) },
    secret,
    {
      algorithm: 'HS256',
      subject: t.sub,
      expiresIn: t.ttlSeconds ?? 3600,
      ...(t.issuer ? { issuer: t.issuer } : {}),
      ...(t.audience ? { audience: t.audience } : {}),
    },
  );
}
