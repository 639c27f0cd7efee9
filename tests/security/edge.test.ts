/** Rate limiting per token subject, CORS allow-list and security headers. */
import { type TestApp, startTestApp } from '../helpers/app';

describe('rate limiting', () => {
  let t: TestApp;
  beforeAll(() => {
    t = startTestApp({ RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(() => t.close());

  test('each token subject has its own budget; over it → 429 with Retry-After and an OperationOutcome', async () => {
    const a = t.as(['clinician'], 'org-a', { sub: 'alice' });
    const b = t.as(['clinician'], 'org-a', { sub: 'bob' });
    for (let i = 0; i < 5; i++) expect((await a.get('/fhir/Organization')).status).toBe(200);
    const limited = await a.get('/fhir/Organization');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body.issue[0].code).toBe('throttled');
    expect((await b.get('/fhir/Organization')).status).toBe(200);
  });
});

describe('CORS', () => {
  let t: TestApp;
  beforeAll(() => {
    t = startTestApp({ CORS_ORIGINS: 'https://clinic.example.org' });
  });
  afterAll(() => t.close());

  test('only allow-listed origins get CORS headers', async () => {
    const ok = await t.http.options('/fhir/Patient').set('Origin', 'https://clinic.example.org').set('Access-Control-Request-Method', 'POST');
    expect(ok.headers['access-control-allow-origin']).toBe('https://clinic.example.org');
    expect(ok.headers['access-control-allow-headers']).toContain('Authorization');
    const other = await t.http.get('/fhir/metadata').set('Origin', 'https://evil.example.org');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('helmet headers on every response, errors included', async () => {
    const res = await t.http.get('/fhir/Nope');
    expect(res.status).toBe(404);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});
