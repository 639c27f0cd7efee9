/** JWT attacks and the 401 contract (docs/security.md, Authentication). */
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { type TestApp, TEST_SECRET, startTestApp, token } from '../helpers/app';

const claims = { sub: 'u1', org: 'org-a', roles: ['clinician'] };
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

function b64(o: object): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

async function expect401(t: TestApp, bearer: string | undefined): Promise<void> {
  const req = request(t.app).get('/fhir/Patient');
  const res = await (bearer === undefined ? req : req.set('Authorization', bearer));
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  if (bearer !== undefined) expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  expect(res.body.resourceType).toBe('OperationOutcome');
  // Nothing that helps an attacker: no library messages, no reason.
  expect(JSON.stringify(res.body)).not.toMatch(/expired|signature|algorithm|audience|issuer|malformed|jwt/i);
}

describe('HS256 deployment', () => {
  let t: TestApp;
  beforeAll(() => {
    t = startTestApp({ AUTH_JWT_ISSUER: 'https://idp.example.org', AUTH_JWT_AUDIENCE: 'linkcare' });
  });
  afterAll(() => t.close());
  const good = (extra: object = {}, opts: jwt.SignOptions = {}) =>
    jwt.sign({ ...claims, ...extra }, TEST_SECRET, { algorithm: 'HS256', expiresIn: 300, issuer: 'https://idp.example.org', audience: 'linkcare', ...opts });

  test('a valid token works; metadata needs none', async () => {
    const ok = await request(t.app).get('/fhir/Patient').set('Authorization', `Bearer ${good()}`);
    expect(ok.status).toBe(200);
    expect((await request(t.app).get('/fhir/metadata')).status).toBe(200);
  });

  test.each([
    ['no Authorization header', undefined],
    ['a non-Bearer scheme', 'Basic dXNlcjpwYXNz'],
    ['alg none', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 300, iss: 'https://idp.example.org', aud: 'linkcare' })}.`],
    ['expired', `Bearer ${good({}, { expiresIn: -60 })}`],
    ['not yet valid', `Bearer ${good({}, { notBefore: 600 })}`],
    ['wrong issuer', `Bearer ${good({}, { issuer: 'https://evil.example.org' })}`],
    ['wrong audience', `Bearer ${good({}, { audience: 'someone-else' })}`],
    ['signed with another secret', `Bearer ${jwt.sign(claims, 'another-secret-another-secret-another-secret', { algorithm: 'HS256', expiresIn: 300, issuer: 'https://idp.example.org', audience: 'linkcare' })}`],
    ['RS256 when HS256 is pinned', `Bearer ${jwt.sign(claims, rsa.privateKey, { algorithm: 'RS256', expiresIn: 300, issuer: 'https://idp.example.org', audience: 'linkcare' })}`],
    ['no exp', `Bearer ${jwt.sign(claims, TEST_SECRET, { algorithm: 'HS256', issuer: 'https://idp.example.org', audience: 'linkcare' })}`],
    ['no org claim', `Bearer ${good({ org: undefined })}`],
    ['an unknown role', `Bearer ${good({ roles: ['superuser'] })}`],
    ['empty roles', `Bearer ${good({ roles: [] })}`],
    ['garbage', 'Bearer not.a.token'],
  ])('%s → 401', async (_name, bearer) => {
    await expect401(t, bearer);
  });

  test('a tampered payload → 401', async () => {
    const [h, , s] = good().split('.');
    const forged = `${h}.${b64({ ...claims, roles: ['admin', 'auditor'], exp: Math.floor(Date.now() / 1000) + 300, iss: 'https://idp.example.org', aud: 'linkcare' })}.${s}`;
    await expect401(t, `Bearer ${forged}`);
  });

  test('refusals are logged with the reason, which never reaches the client', async () => {
    await expect401(t, `Bearer ${good({}, { expiresIn: -60 })}`);
    expect(t.logs.some((l) => l.includes('token refused') && l.includes('expired'))).toBe(true);
  });
});

describe('RS256 deployment', () => {
  let t: TestApp;
  beforeAll(() => {
    t = startTestApp({ AUTH_JWT_SECRET: '', AUTH_JWT_PUBLIC_KEY: rsa.publicKey, AUTH_JWT_ALG: 'RS256' });
  });
  afterAll(() => t.close());

  test('a token signed with the private key works', async () => {
    const ok = jwt.sign(claims, rsa.privateKey, { algorithm: 'RS256', expiresIn: 300 });
    expect((await request(t.app).get('/fhir/Patient').set('Authorization', `Bearer ${ok}`)).status).toBe(200);
  });

  test('HS256 signed with the RSA public key (algorithm confusion) → 401', async () => {
    const header = b64({ alg: 'HS256', typ: 'JWT' });
    const payload = b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 300 });
    const sig = require('node:crypto').createHmac('sha256', rsa.publicKey).update(`${header}.${payload}`).digest('base64url');
    await expect401(t, `Bearer ${header}.${payload}.${sig}`);
  });

  test('an HS256 token with the test secret → 401', async () => {
    await expect401(t, `Bearer ${token(['clinician'], 'org-a')}`);
  });
});

describe('ES256 deployment', () => {
  let t: TestApp;
  beforeAll(() => {
    t = startTestApp({ AUTH_JWT_SECRET: '', AUTH_JWT_PUBLIC_KEY: ec.publicKey, AUTH_JWT_ALG: 'ES256' });
  });
  afterAll(() => t.close());

  test('ES256 works; RS256 is refused', async () => {
    const ok = jwt.sign(claims, ec.privateKey, { algorithm: 'ES256', expiresIn: 300 });
    expect((await request(t.app).get('/fhir/Patient').set('Authorization', `Bearer ${ok}`)).status).toBe(200);
    await expect401(t, `Bearer ${jwt.sign(claims, rsa.privateKey, { algorithm: 'RS256', expiresIn: 300 })}`);
  });
});

test('production refuses to start without keys', () => {
  const { loadConfig } = require('../../src/config') as typeof import('../../src/config');
  expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AUTH_JWT/);
  expect(() => loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: TEST_SECRET })).toThrow(/PSEUDONYM_KEY/);
  expect(() => loadConfig({ AUTH_JWT_SECRET: 'short' })).toThrow(/32 bytes/);
  expect(() => loadConfig({ AUTH_JWT_SECRET: TEST_SECRET, AUTH_JWT_ALG: 'none' })).toThrow(/AUTH_JWT_ALG/);
});
