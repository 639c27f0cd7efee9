import { ConfigError, loadConfig, parseDatabaseUrl, parseSize } from '../../src/config';

test('defaults', () => {
  const c = loadConfig({});
  expect(c).toMatchObject({ port: 8080, database: { kind: 'sqlite', file: './data/linkcare.sqlite' }, logLevel: 'info', production: false, bodyLimitBytes: 5 * 1024 * 1024 });
  expect(c.baseUrl).toBe('http://localhost:8080/fhir');
  expect(c.heapGrowthPercent).toBe(100);
  expect(loadConfig({ HEAP_GROWTH_PERCENT: '0' }).heapGrowthPercent).toBe(0);
});

test('DATABASE_URL forms', () => {
  expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', file: ':memory:' });
  expect(parseDatabaseUrl('mongodb://db:27017/linkcare')).toEqual({ kind: 'mongodb', url: 'mongodb://db:27017/linkcare', allowStandalone: false });
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
  [{ DIRECTORY_TIME_ZONE: 'Mars/Olympus' }, /DIRECTORY_TIME_ZONE/],
  [{ SUPPRESSION_THRESHOLD: '-1' }, /SUPPRESSION_THRESHOLD/],
  [{ EXPORT_RETENTION_HOURS: '0' }, /EXPORT_RETENTION_HOURS/],
  [{ HEAP_GROWTH_PERCENT: '-5' }, /HEAP_GROWTH_PERCENT/],
  [{ HEAP_GROWTH_PERCENT: '1000' }, /HEAP_GROWTH_PERCENT/],
  [{ NODE_ENV: 'production', DATABASE_URL: 'mongodb://db/x', MONGODB_ALLOW_STANDALONE: '1', AUTH_JWT_SECRET: 'x'.repeat(40), PSEUDONYM_KEY: Buffer.alloc(32, 7).toString('base64') }, /replica set/],
])('bad value %o is refused with a clear message', (env, msg) => {
  expect(() => loadConfig(env)).toThrow(msg);
});

test('sizes', () => {
  expect(parseSize('X', '5mb')).toBe(5 * 1024 * 1024);
  expect(parseSize('X', '512kb')).toBe(512 * 1024);
  expect(parseSize('X', '2048')).toBe(2048);
  expect(() => parseSize('X', '10')).toThrow(ConfigError);
});

test('MONGODB_ALLOW_STANDALONE=1 reaches the MongoDB settings in development', () => {
  expect(loadConfig({ DATABASE_URL: 'mongodb://db/x', MONGODB_ALLOW_STANDALONE: '1' }).database).toEqual({ kind: 'mongodb', url: 'mongodb://db/x', allowStandalone: true });
});
