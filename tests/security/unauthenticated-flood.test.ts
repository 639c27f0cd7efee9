/**
 * Security review: requests without a valid token were never rate-limited (the limiter ran after
 * authentication) and each wrote a hash-chained AuditEvent. Refusals now have their own budget
 * per client address; valid tokens keep their per-subject budget and are never held back by
 * their address's refusals.
 */
import request from 'supertest';
import type { AuditEvent } from '@medplum/fhirtypes';
import { ConfigError, loadConfig, parseTrustProxy } from '../../src/config';
import { type TestApp, startTestApp } from '../helpers/app';

/** AuditEvents of refused (anonymous) callers, read from the store: no organisation holds them. */
async function anonymousEvents(t: TestApp): Promise<number> {
  const all = await t.store.search({ types: ['AuditEvent'], where: [], sort: [], count: 1000, total: 'none' });
  return all.matches.filter((v) => (v.resource as AuditEvent).agent[0]!.who?.display === 'unauthenticated caller').length;
}

describe('refused requests are limited per client address', () => {
  let t: TestApp;
  beforeEach(() => {
    // The reviewer's setting; the refusal budget defaults to min(60, RATE_LIMIT_PER_MINUTE).
    t = startTestApp({ RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterEach(() => t.close());

  test('a flood without a token or with bad ones → 429 with Retry-After and an OperationOutcome, audited only within budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const req = request(t.app).get('/fhir/Patient');
      if (i % 3 === 1) req.set('Authorization', 'Bearer not-a-jwt');
      if (i % 3 === 2) req.set('Authorization', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl');
      const res = await req;
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
        expect(res.headers['content-type']).toContain('application/fhir+json');
        expect(res.body.resourceType).toBe('OperationOutcome');
        expect(res.body.issue[0].code).toBe('throttled');
      }
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    // Five refusals audited, not forty: the audit log no longer grows with the flood.
    expect(await anonymousEvents(t)).toBe(5);
  });

  test('a valid user at the same address still gets through, within their own budget', async () => {
    for (let i = 0; i < 10; i++) await request(t.app).get('/fhir/Patient');
    expect((await request(t.app).get('/fhir/Patient')).status).toBe(429);
    const alice = t.as(['clinician'], 'org-a', { sub: 'alice' });
    for (let i = 0; i < 5; i++) expect((await alice.get('/fhir/Organization')).status).toBe(200);
    // Alice's per-subject budget is hers alone, and is spent as before.
    expect((await alice.get('/fhir/Organization')).status).toBe(429);
    expect((await t.as(['clinician'], 'org-a', { sub: 'bob' }).get('/fhir/Organization')).status).toBe(200);
  });

  test('the public capability statement is not a refusal', async () => {
    for (let i = 0; i < 5; i++) await request(t.app).get('/fhir/Patient');
    expect((await request(t.app).get('/fhir/metadata')).status).toBe(200);
  });

  test('routes outside /fhir share the refusal budget', async () => {
    for (let i = 0; i < 5; i++) expect((await request(t.app).get('/bulk-export/x')).status).toBe(401);
    expect((await request(t.app).get('/bulk-export/x')).status).toBe(429);
    expect((await request(t.app).get('/fhir/Patient')).status).toBe(429);
  });
});

describe('client addresses behind a proxy', () => {
  test('without TRUST_PROXY, X-Forwarded-For is ignored: a client cannot choose its budget', async () => {
    const t = startTestApp({ AUTH_FAILURE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await request(t.app).get('/fhir/Patient').set('X-Forwarded-For', `203.0.113.${i}`)).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await t.close();
    }
  });

  test('with TRUST_PROXY=1, each forwarded client has its own budget', async () => {
    const t = startTestApp({ AUTH_FAILURE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: '1' });
    try {
      const from = (ip: string) => request(t.app).get('/fhir/Patient').set('X-Forwarded-For', ip);
      expect([(await from('203.0.113.7')).status, (await from('203.0.113.7')).status, (await from('203.0.113.7')).status]).toEqual([401, 401, 429]);
      expect((await from('198.51.100.9')).status).toBe(401);
    } finally {
      await t.close();
    }
  });
});

describe('configuration', () => {
  const base = { NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:' };

  test('AUTH_FAILURE_LIMIT_PER_MINUTE defaults to min(60, RATE_LIMIT_PER_MINUTE) and is bounded', () => {
    expect(loadConfig(base).authFailuresPerMinute).toBe(60);
    expect(loadConfig({ ...base, RATE_LIMIT_PER_MINUTE: '5' }).authFailuresPerMinute).toBe(5);
    expect(loadConfig({ ...base, AUTH_FAILURE_LIMIT_PER_MINUTE: '120' }).authFailuresPerMinute).toBe(120);
    expect(() => loadConfig({ ...base, AUTH_FAILURE_LIMIT_PER_MINUTE: '0' })).toThrow(ConfigError);
  });

  test('TRUST_PROXY: off, hop counts, addresses and subnets; `true` and junk refused', () => {
    expect(parseTrustProxy(undefined)).toBe(false);
    expect(parseTrustProxy('')).toBe(false);
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('0')).toBe(false);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('loopback, 10.0.0.0/8,fd00::/8, 192.0.2.1')).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
    for (const bad of ['true', '11', '10.0.0.0/33', 'proxy.example.org', '10.0.0.0/8/1', 'fd00::/129']) {
      expect(() => parseTrustProxy(bad)).toThrow(ConfigError);
    }
    expect(loadConfig({ ...base, TRUST_PROXY: 'loopback' }).trustProxy).toEqual(['loopback']);
  });
});
