/**
 * fast-check arbitraries of malformed and hostile HTTP requests for the fuzz test. Every request
 * is built so that a correct server stores nothing: bodies are broken, invalid or over the limit,
 * transactions carry at least one bad entry, ids do not exist, and state-changing operations get
 * no valid input. Anything stored after the run is therefore a bug, not bad luck.
 */
import fc from 'fast-check';

export interface HostileRequest {
  /** Which family of hostility made it (for the report). */
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

const TYPES = ['Patient', 'Observation', 'Organization', 'Task', 'ServiceRequest', 'Consent', 'Encounter', 'AuditEvent', 'CodeSystem', 'Nonsense', 'patient', ''];
const READ_ONLY_OPS = ['$everything', '$hiv-testing-strategy', '$hiv-retest-due', '$tb-screen', '$post-exposure', '$sti-syndromic', '$care-gaps', '$evaluate-measure', '$referral-metrics', '$lookup', '$expand', '$validate-code', '$meta', '$nonsense'];
const WRITE_OPS = ['$register', '$erase', '$export', '$process-message', '$hiv-testing-strategy', '$care-gaps'];
const PARAMS = ['_id', '_count', '_sort', '_include', '_revinclude', '_elements', '_summary', '_total', '_lastUpdated', '_has', '_format', '_type', 'name', 'identifier', 'subject', 'patient', 'code', 'date', 'status', 'value-quantity', 'owner', 'focus', 'birthdate', 'gender', 'code-value-quantity', 'bogus', '__proto__', 'constructor'];
const MODIFIERS = ['', ':missing', ':exact', ':contains', ':not', ':text', ':above', ':below', ':in', ':identifier', ':Patient', ':iterate', ':bogus', ':'];

const FHIR_JSON = 'application/fhir+json';

/** Short strings full of characters that break parsers: quotes, percent signs, separators, Unicode. */
const nasty = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.fullUnicodeString({ maxLength: 20 }),
  fc.constantFrom('%', '%%', '%E0%A4%A', '%00', '%FF', '..', '../..', '\\', '|', '$', ',', ';', '&', '=', '*', '"', "'", '<script>', '${x}', 'gt', 'ap2024', 'NaN', '-0', '1e999', '9'.repeat(40), ' ', '\u0000', '\u202e'),
);

/** A string percent-encoded the way a browser would (so it survives node:http's path checks). */
const enc = (s: string): string => encodeURIComponent(s).replace(/%25/g, () => '%');

/** Query strings: unknown and known parameters, odd modifiers and prefixes, repeats, broken encoding. */
const badQuery = fc.oneof(
  fc.array(fc.tuple(fc.constantFrom(...PARAMS), fc.constantFrom(...MODIFIERS), nasty), { maxLength: 8 }).map((pairs) =>
    pairs.map(([p, m, v]) => `${p}${m}=${enc(v)}`).join('&'),
  ),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map((n) => `_count=${n}`),
  fc.constantFrom('_count=1e9', '_count=0x10', '_count=', '_count', '_count=1000000', '_sort=-_id,-_id,-_id', '_elements=*', '_summary=nonsense', '&&&&', '=', '==&=='),
  // Pathological chains and reverse chains.
  fc.integer({ min: 2, max: 60 }).map((n) => `subject:Patient${'.organization.partof'.repeat(n)}.name=x`),
  fc.integer({ min: 2, max: 40 }).map((n) => `${'_has:Observation:subject:'.repeat(n)}code=x`),
  fc.integer({ min: 2, max: 40 }).map((n) => `${'_include=Observation:subject&'.repeat(n)}_revinclude:iterate=*`),
  fc.integer({ min: 100, max: 3000 }).map((n) => Array.from({ length: n }, (_, i) => `name=${i}`).join('&')),
  fc.integer({ min: 1000, max: 60000 }).map((n) => `name=${'x'.repeat(n)}`),
);

/** Ids and paths that try to climb out or confuse the router. */
const badId = fc.oneof(
  fc.constantFrom('..', '../..', '..%2F..%2Fetc%2Fpasswd', '%2e%2e', '%2e%2e%2f%2e%2e', '....//', '%00', 'x%00y', '%E0%A4%A', '%', 'a'.repeat(65), '-', '.', '_history', '$everything', '%252e%252e'),
  nasty.map(enc),
  fc.integer({ min: 100, max: 20000 }).map((n) => 'i'.repeat(n)),
);

const badPath = fc.oneof(
  fc.tuple(fc.constantFrom(...TYPES), badId).map(([t, id]) => `/fhir/${t}/${id}`),
  fc.tuple(fc.constantFrom(...TYPES), badId, badId).map(([t, a, b]) => `/fhir/${t}/${a}/_history/${b}`),
  fc.tuple(fc.constantFrom(...TYPES), badId).map(([t, id]) => `/fhir/${t}/${id}/../../../../etc/passwd`),
  fc.constantFrom('/fhir/../../etc/passwd', '/fhir/./Patient', '//fhir//Patient', '/fhir/Patient/', '/fhir/Patient//', '/fhir/%2F', '/FHIR/Patient', '/fhir/Patient/a/b/c/d/e/f', '/fhir/metadata/x', '/fhir/_history/_history'),
);

/** A resource body that is valid JSON but never a valid resource. */
const wrongValue = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { minLength: 1, maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { minKeys: 1, maxKeys: 3 }));
const wrongTypes = fc.oneof(
  fc.tuple(fc.constantFrom('gender', 'birthDate', 'active', 'name', 'identifier', 'telecom', 'deceasedBoolean', 'id', 'meta'), wrongValue).map(([f, v]) => ({ resourceType: 'Patient', [f]: f === 'active' || f === 'deceasedBoolean' ? String(v) : typeof v === 'string' ? 0 : v })),
  fc.tuple(fc.constantFrom('status', 'code', 'subject', 'effectiveDateTime', 'valueQuantity'), wrongValue).map(([f, v]) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, [f]: v })),
  fc.tuple(fc.constantFrom('resourceType'), wrongValue).map(([, v]) => ({ resourceType: v })),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }).map((d) => ({ ...d, resourceType: 'Organization', bogusField: 1 })),
);

/** Valid-looking JSON text that is broken: cut short, or with a syntax error spliced in. */
const brokenJson = fc.oneof(
  fc.tuple(fc.constant('{"resourceType":"Patient","gender":"female","birthDate":"1990","name":[{"text":"x"}]}'), fc.nat()).map(([s, n]) => s.slice(0, n % (s.length - 1))),
  fc.constantFrom('{"resourceType":"Patient",,}', '{resourceType:Patient}', "{'resourceType':'Patient'}", '{"resourceType":"Patient"}}', 'nul', 'tru', '[', '{"a":1e99999}', '{"a":"\\ud800"', '{"a":"\\x41"}', '\ufeff{"resourceType":"Patient"', '{"resourceType":"Patient"/*c*/}'),
  fc.string({ maxLength: 200 }).map((s) => `{"resourceType":"Patient",${s}`),
);

/** Prototype-pollution keys placed somewhere in an otherwise plausible resource. */
const protoKeys = fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.integer({ min: 0, max: 3 })).map(([key, where]) => {
  const inner = `{"${key}":{"polluted":true,"isAdmin":true}}`;
  return [
    `{"resourceType":"Patient","${key}":{"polluted":true}}`,
    `{"resourceType":"Patient","meta":${inner}}`,
    `{"resourceType":"Patient","name":[${inner}]}`,
    `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","${key}":{"x":1}},"request":{"method":"POST","url":"Patient"}}]}`,
  ][where]!;
});

/** Nesting deeper than the limit (64 by default), or just under it in an unknown element. */
const deepNesting = fc.tuple(fc.integer({ min: 10, max: 200000 }), fc.boolean()).map(([d, arrays]) =>
  `{"resourceType":"Patient","extension":${(arrays ? '[' : '{"a":').repeat(d)}1${(arrays ? ']' : '}').repeat(d)}}`,
);

/** Big bodies: huge arrays of the wrong thing, huge strings where nothing may go, or over the limit. */
const huge = fc.oneof(
  fc.integer({ min: 1000, max: 200000 }).map((n) => JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, note: new Array(n).fill(7) })),
  fc.integer({ min: 10000, max: 2_000_000 }).map((n) => JSON.stringify({ resourceType: 'Organization', name: 'x', bogus: 'b'.repeat(n) })),
  fc.integer({ min: 5 * 1024 * 1024, max: 6 * 1024 * 1024 }).map((n) => `{"resourceType":"Organization","name":"${'n'.repeat(n)}"}`),
);

/** Invalid UTF-8 spliced into a body that would otherwise be a valid resource. */
const badUtf8 = fc.tuple(fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80]), fc.nat()).map(([bytes, at]) => {
  const text = Buffer.from('{"resourceType":"Organization","name":"drop-in centre"}');
  const i = 1 + (at % (text.length - 2));
  return Buffer.concat([text.subarray(0, i), Buffer.from(bytes), text.subarray(i)]);
});

/** A transaction whose last entry is bad, so none of its valid entries may stay. */
const badTransaction = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom('invalid', 'url', 'method', 'ref', 'dup')).map(([n, how]) => {
  const good = Array.from({ length: n }, (_, i) => ({ fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, resource: { resourceType: 'Organization', name: `o${i}` }, request: { method: 'POST', url: 'Organization' } }));
  const bad = {
    invalid: { resource: { resourceType: 'Organization', name: 1 }, request: { method: 'POST', url: 'Organization' } },
    url: { resource: { resourceType: 'Organization', name: 'x' }, request: { method: 'POST', url: '../../etc/passwd' } },
    method: { resource: { resourceType: 'Organization', name: 'x' }, request: { method: 'TRACE', url: 'Organization' } },
    ref: { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/no-such-client' } }, request: { method: 'POST', url: 'Observation' } },
    dup: { fullUrl: good[0]?.fullUrl ?? 'urn:uuid:x', resource: { resourceType: 'Organization', name: 1 }, request: { method: 'POST', url: 'Organization' } },
  }[how];
  return JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [...good, bad] });
});

/** Header values: odd content types, ETags, preferences, request ids, garbage tokens. */
const headerValue = fc.oneof(
  fc.string({ maxLength: 60 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  fc.constantFrom('W/"', 'W/"1', '*', 'W/"-1"', '""', 'application/fhir+json; charset=latin1', 'application/fhir+json; fhirVersion=9.9', 'text/plain', 'multipart/form-data; boundary=x', 'return=representation; handling=strict', 'Bearer ', 'Bearer a.b.c', 'Basic YWRtaW46YWRtaW4=', 'x'.repeat(8000)),
);
const HEADER_NAMES = ['Content-Type', 'Accept', 'If-Match', 'If-None-Exist', 'If-None-Match', 'If-Modified-Since', 'Prefer', 'X-Request-Id', 'X-Purpose-Of-Use', 'Authorization', 'Accept-Charset', 'Content-Encoding', 'X-Forwarded-For', 'Origin'];
const badHeaders = fc.dictionary(fc.constantFrom(...HEADER_NAMES), headerValue, { maxKeys: 4 });

const req = (kind: string, method: string, path: string, headers: Record<string, string> = {}, payload?: Buffer): HostileRequest => ({ kind, method, path, headers, body: payload });

const body = (kind: string, method: string, text: string | Buffer, path = '/fhir/Patient', headers: Record<string, string> = {}): HostileRequest => ({
  kind, method, path, headers: { 'Content-Type': FHIR_JSON, ...headers }, body: Buffer.isBuffer(text) ? text : Buffer.from(text),
});

/** One hostile request of any family. */
export const hostileRequest: fc.Arbitrary<HostileRequest> = fc.oneof(
  { weight: 3, arbitrary: brokenJson.map((t) => body('broken JSON', 'POST', t)) },
  { weight: 3, arbitrary: fc.tuple(wrongTypes, fc.constantFrom('POST', 'PUT')).map(([r, m]) => body('wrong types', m, JSON.stringify(r), m === 'PUT' ? '/fhir/Patient/fuzz-id' : `/fhir/${typeof r.resourceType === 'string' ? r.resourceType : 'Patient'}`)) },
  { weight: 1, arbitrary: huge.map((t) => body('huge', 'POST', t, '/fhir/Organization')) },
  { weight: 2, arbitrary: deepNesting.map((t) => body('deep nesting', 'POST', t)) },
  { weight: 2, arbitrary: protoKeys.map((t) => body('prototype keys', 'POST', t, t.includes('Bundle') ? '/fhir' : '/fhir/Patient')) },
  { weight: 2, arbitrary: badUtf8.map((b) => body('invalid UTF-8', 'POST', b, '/fhir/Organization')) },
  { weight: 2, arbitrary: badTransaction.map((t) => body('bad transaction', 'POST', t, '/fhir')) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...TYPES), badQuery).map(([t, q]) => req('bad query', 'GET', `/fhir/${t}?${q}`)) },
  { weight: 3, arbitrary: fc.tuple(badPath, fc.constantFrom('GET', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS')).map(([p, m]) => m === 'PATCH' ? req('path traversal', m, p, { 'Content-Type': 'application/json-patch+json' }, Buffer.from('[{"op":"remove","path":"/id"}]')) : req('path traversal', m, p)) },
  { weight: 1, arbitrary: badPath.map((p) => body('put on bad path', 'PUT', '{"resourceType":"Organization","id":"../x","name":1}', p)) },
  { weight: 3, arbitrary: fc.tuple(badHeaders, fc.constantFrom('GET /fhir/Patient', 'GET /fhir/metadata', 'POST /fhir/Organization', 'PUT /fhir/Organization/fuzz-org', 'GET /fhir/Organization?name=x')).map(([h, what]) => {
    const [method, path] = what.split(' ') as [string, string];
    return req('bad headers', method, path, h, method === 'GET' ? undefined : Buffer.from('{"resourceType":"Organization","name":["not","a","string"]}'));
  }) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...READ_ONLY_OPS), fc.constantFrom('', 'Patient/', 'Patient/nope/', 'Measure/'), badQuery).map(([op, at, q]) => req('operation query', 'GET', `/fhir/${at}${op}?${q}`)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...WRITE_OPS), fc.oneof(brokenJson, wrongTypes.map((r) => JSON.stringify(r)), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ resourceType: 'Parameters', parameter: v === null || Array.isArray(v) ? 'x' : v })))).map(([op, t]) => body('operation body', 'POST', t, `/fhir/${op}`)) },
);

/** Whether a response body leaks internals (stack frames, source paths, module folders). */
export function leaksInternals(text: string): boolean {
  return /\bat \S+ \(|node_modules|\/src\/\S+\.ts|\.ts:\d+:\d+|SqliteError|SQLITE_/.test(text);
}
