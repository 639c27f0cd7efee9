import { ConfigError, loadConfig, parseDatabaseUrl, parseSize } from '../../src/config';

test('defaults', () => {
  const c = loadConfig({});
  expect(c).toMatchObject({ port: 8080, database: { kind: 'sqlite', file: './data/linkcare.sqlite' }, logLevel: 'info', production: false, bodyLimitBytes: 5 * 1024 * 1024 });
  expect(c.baseUrl).toBe('http://localhost:8080/fhir');
});

test('DATABASE_URL forms', () => {
  expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', file: ':memory:' });
  expect(parseDatabaseUrl('mongodb://db:27017/linkcare')).toEqual({ kind: 'mongodb', url: 'mongodb://db:27017/linkcare' });
  expect(parseDatabaseUrl('mongodb+srv://cluster.example/x').kind).toBe('mongodb');
  expect(() => parseDatabaseUrl('postgres://x')).toThrow(ConfigError);
  expect(() => parseDatabaseUrl('sqlite:')).toThrow(ConfigError);
});

test.each([
  [{ PORT: 'abc' }, /PORT/],
  [{ PORT: '70000' }, /PORT/],
  [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  [{ NODE_ENV: 'staging' }, /NODE_ENV/],
  [{ BODY_LIMIT: '5gb' }, /BODY_LIMIT/],
  [{ BASE_URL: 'ftp://x' }, /BASE_URL/],
  [{ CLIENT_ID_TYPES: 'Basic' }, /CLIENT_ID_TYPES/],
])('bad value %o is refused with a clear message', (env, msg) => {
  expect(() => loadConfig(env)).toThrow(msg);
});

test('sizes', () => {
  expect(parseSize('X', '5mb')).toBe(5 * 1024 * 1024);
  expect(parseSize('X', '512kb')).toBe(512 * 1024);
  expect(parseSize('X', '2048')).toBe(2048);
  expect(() => parseSize('X', '10')).toThrow(ConfigError);
});
