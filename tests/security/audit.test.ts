/** Audit: an event for every interaction, committed with the write, hash-chained and verifiable. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import type { AuditEvent } from '@medplum/fhirtypes';
import { BASE, FHIR_JSON, TEST_PSEUDONYM_KEY, TEST_SECRET, type TestApp, startTestApp, testRegistry } from '../helpers/app';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { createIndexer } from '../../src/search/indexer';
import { verifyAuditChain } from '../../src/audit/verify';
import { CLIENT_CODE_SYSTEM } from '../../src/privacy/client-code';

const dir = mkdtempSync(join(tmpdir(), 'linkcare-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function fileApp(): { t: TestApp; file: string } {
  const file = join(dir, `db-${n++}.sqlite`);
  return { t: startTestApp({}, openSqliteStore(file, { indexer: createIndexer(testRegistry(), BASE) })), file };
}

async function events(t: TestApp, query = ''): Promise<AuditEvent[]> {
  const res = await t.as(['auditor']).get(`/fhir/AuditEvent?_count=1000${query}`);
  expect(res.status).toBe(200);
  return (res.body.entry ?? []).map((e: { resource: AuditEvent }) => e.resource);
}

const subtype = (e: AuditEvent) => e.subtype?.[0]?.code;

describe('what is recorded', () => {
  let t: TestApp;
  beforeAll(() => {
    t = startTestApp();
  });
  afterAll(() => t.close());

  test('reads, searches, writes and refusals each write an AuditEvent naming user, organisation and client code', async () => {
    const p = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType":"Patient","gender":"female"}');
    const code = p.body.identifier[0].value as string;
    const o = await t.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${p.body.id}` } }));
    await t.http.get(`/fhir/Observation/${o.body.id}`).set('X-Purpose-Of-Use', 'TREAT');
    await t.http.get('/fhir/Observation?status=final');
    await t.http.delete(`/fhir/Observation/${o.body.id}`);
    await t.as(['outreach']).get(`/fhir/Observation/${o.body.id}`); // 403
    await request(t.app).get('/fhir/Patient'); // 401
    const all = await events(t);
    const kinds = all.map((e) => `${e.action}:${subtype(e)}:${e.outcome}`);
    expect(kinds).toEqual(expect.arrayContaining(['C:create:0', 'R:read:0', 'R:search-type:0', 'D:delete:0', 'R:read:4']));
    const read = all.find((e) => subtype(e) === 'read' && e.outcome === '0')!;
    expect(read.agent[0]).toMatchObject({ altId: 'user-clinician-admin-test-org', requestor: true });
    expect(read.agent[1]!.who!.reference).toBe('Organization/test-org');
    expect(read.purposeOfEvent?.[0]?.coding?.[0]?.code).toBe('TREAT');
    expect(read.entity).toEqual(expect.arrayContaining([
      expect.objectContaining({ what: { reference: `Observation/${o.body.id}` } }),
      expect.objectContaining({ what: { type: 'Patient', identifier: { system: CLIENT_CODE_SYSTEM, value: code } } }),
    ]));
    // No event names the client by Patient id.
    expect(JSON.stringify(all)).not.toContain(`Patient/${p.body.id}`);
    // The unauthenticated call is recorded with an anonymous agent; auditors of an organisation
    // see their own organisation's events, so check it in the store.
    const anon = await t.store.search({ types: ['AuditEvent'], where: [], sort: [], count: 100, total: 'none' });
    expect(anon.matches.some((v) => (v.resource as AuditEvent).agent[0]!.who?.display === 'unauthenticated caller')).toBe(true);
  });

  test('a failed transaction leaves no success events, only the failure', async () => {
    const before = (await events(t)).length;
    const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify({
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { resource: { resourceType: 'Organization', name: 'ok' }, request: { method: 'POST', url: 'Organization' } },
        { resource: { resourceType: 'Organization', name: 1 }, request: { method: 'POST', url: 'Organization' } },
      ],
    }));
    expect(res.status).toBe(400);
    const after = await events(t);
    const added = after.slice(0, after.length - before);
    expect(after.length - before).toBeGreaterThanOrEqual(1);
    expect(after.filter((e) => subtype(e) === 'create' && e.entity?.some((x) => x.what?.reference?.startsWith('Organization/')))).toHaveLength(0);
    void added;
  });

  test('a transaction Bundle is one create event naming every resource it created', async () => {
    const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify({
      resourceType: 'Bundle', type: 'transaction',
      entry: ['T1', 'T2', 'T3'].map((name) => ({ resource: { resourceType: 'Organization', name }, request: { method: 'POST', url: 'Organization' } })),
    }));
    expect(res.status).toBe(200);
    const ids = res.body.entry.map((e: { response: { location: string } }) => e.response.location.split('/_history')[0]!.split('/').slice(-2).join('/'));
    const creates = (await events(t, `&entity=${ids[0]}`)).filter((e) => subtype(e) === 'create');
    expect(creates).toHaveLength(1);
    expect(creates[0]!.entity!.map((x) => x.what?.reference).filter(Boolean)).toEqual(ids);
  });

  test('auditors search by date, agent, entity, client code, outcome and user', async () => {
    const p = await t.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType":"Patient"}');
    const code = p.body.identifier[0].value as string;
    const org = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send('{"resourceType":"Organization","name":"Z"}');
    const today = new Date().toISOString().slice(0, 10);
    expect((await events(t, `&date=ge${today}`)).length).toBeGreaterThan(3);
    expect((await events(t, '&date=lt2000-01-01')).length).toBe(0);
    expect((await events(t, '&agent=Organization/test-org')).length).toBeGreaterThan(3);
    expect((await events(t, `&entity=Organization/${org.body.id}`)).map(subtype)).toEqual(['create']);
    expect((await events(t, `&patient:identifier=${encodeURIComponent(`${CLIENT_CODE_SYSTEM}|${code}`)}`)).map(subtype)).toContain('create');
    expect((await events(t, '&outcome=4')).every((e) => e.outcome === '4')).toBe(true);
    expect((await events(t, '&altid=user-clinician-admin-test-org')).length).toBeGreaterThan(3);
    const newest = await t.as(['auditor']).get('/fhir/AuditEvent?_sort=-date&_count=2');
    expect(newest.body.entry.map((e: { resource: AuditEvent }) => e.resource.recorded)).toEqual(
      newest.body.entry.map((e: { resource: AuditEvent }) => e.resource.recorded).sort().reverse(),
    );
  });

  test('AuditEvents are searched on their own: includes, chains and _has naming them are a 400', async () => {
    const queries = [
      'AuditEvent?_include=AuditEvent:entity', 'AuditEvent?agent.name=x', 'Organization?_revinclude=AuditEvent:agent', 'Organization?_has:AuditEvent:agent:outcome=0',
      'AuditEvent?_include=*', 'AuditEvent?_revinclude=*', 'AuditEvent?_include=Patient:organization',
    ];
    for (const query of queries) {
      const res = await t.as(['auditor']).get(`/fhir/${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body.issue[0].diagnostics).toMatch(/searched on their own/);
    }
  });

  test('one subset of search for AuditEvents on every store: exact tokens and references, dates, :missing', async () => {
    const refused = ['_sort=agent', '_sort=outcome', 'subtype:text=read', 'outcome:in=https://example.org/vs', 'action:above=R', 'date:above=2020'];
    for (const q of refused) {
      const res = await t.as(['auditor']).get(`/fhir/AuditEvent?${q}`);
      expect({ q, status: res.status }).toEqual({ q, status: 400 });
      expect(res.body.issue[0].diagnostics).toMatch(/AuditEvent searches do not support|not supported|cannot/i);
    }
    const accepted = ['_sort=-date', '_sort=_id', 'outcome:not=4', 'subtype=read,search-type', 'agent:missing=false', 'date=ge2000-01-01', 'altid=someone', 'entity:Organization=abc'];
    for (const q of accepted) {
      const res = await t.as(['auditor']).get(`/fhir/AuditEvent?${q}`);
      expect({ q, status: res.status }).toEqual({ q, status: 200 });
    }
  });

  test('a system search without _type leaves AuditEvents out, for an auditor too', async () => {
    for (const roles of [['auditor'], ['auditor', 'admin']] as const) {
      const res = await t.as([...roles]).get('/fhir?_lastUpdated=gt2000-01-01&_count=1000');
      expect({ roles, status: res.status }).toEqual({ roles, status: 200 });
      expect((res.body.entry ?? []).filter((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'AuditEvent')).toEqual([]);
    }
    expect((await t.as(['auditor']).get('/fhir?_type=AuditEvent&_count=1')).body.entry).toHaveLength(1);
  });

  test('_revinclude=* does not reach the events that name a resource', async () => {
    const org = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send('{"resourceType":"Organization","name":"Named by events"}');
    expect((await events(t, `&entity=Organization/${org.body.id}`)).length).toBeGreaterThan(0);
    const res = await t.as(['auditor', 'admin']).get(`/fhir/Organization?_id=${org.body.id}&_revinclude=*&_revinclude:iterate=*`);
    expect(res.status).toBe(200);
    const types = (res.body.entry ?? []).map((e: { resource: { resourceType: string } }) => e.resource.resourceType);
    expect(types).toContain('Organization');
    expect(types).not.toContain('AuditEvent');
  });

  test('AuditEvents cannot be written, changed or deleted through the API', async () => {
    const [one] = await events(t, '&_count=1');
    const auditor = t.as(['auditor', 'admin', 'clinician']);
    expect((await auditor.post('/fhir/AuditEvent').set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...one, id: undefined }))).status).toBe(405);
    expect((await auditor.put(`/fhir/AuditEvent/${one!.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...one, outcome: '0' }))).status).toBe(405);
    expect((await auditor.delete(`/fhir/AuditEvent/${one!.id}`)).status).toBe(405);
    expect((await auditor.get(`/fhir/AuditEvent/${one!.id}`)).body.meta.versionId).toBe('1');
  });
});

describe('the hash chain', () => {
  async function populated(): Promise<{ t: TestApp; file: string }> {
    const app = fileApp();
    for (let i = 0; i < 5; i++) await app.t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(`{"resourceType":"Organization","name":"O${i}"}`);
    return app;
  }

  test('an untouched chain verifies', async () => {
    const { t } = await populated();
    const report = await verifyAuditChain(t.store);
    expect(report).toEqual({ checked: 5, problems: [] });
    await t.close();
  });

  test('a modified event is detected', async () => {
    const { t, file } = await populated();
    await t.close();
    const db = new Database(file);
    const row = db.prepare("SELECT seq, content FROM versions WHERE type = 'AuditEvent' ORDER BY seq LIMIT 1 OFFSET 2").get() as { seq: number; content: string };
    db.prepare('UPDATE versions SET content = ? WHERE seq = ?').run(row.content.replace('"outcome":"0"', '"outcome":"4"'), row.seq);
    db.close();
    const store = openSqliteStore(file);
    const report = await verifyAuditChain(store);
    expect(report.problems).toEqual([expect.objectContaining({ seq: 3, problem: 'content changed' })]);
    await store.close();
  });

  test('a deleted event, and a deleted last link, are detected', async () => {
    const { t, file } = await populated();
    await t.close();
    const db = new Database(file);
    db.prepare('DELETE FROM audit_chain WHERE seq = 2').run();
    db.close();
    let store = openSqliteStore(file);
    expect((await verifyAuditChain(store)).problems.map((p) => p.problem)).toEqual(['link missing', 'chain broken']);
    await store.close();
    const db2 = new Database(file);
    db2.prepare('DELETE FROM audit_chain WHERE seq = 5').run();
    db2.prepare('INSERT INTO audit_chain SELECT 2, event_id || \'x\', prev_hash, hash FROM audit_chain WHERE seq = 3').run();
    db2.close();
    store = openSqliteStore(file);
    const problems = (await verifyAuditChain(store)).problems.map((p) => p.problem);
    expect(problems).toContain('head mismatch');
    await store.close();
  });

  test('npm run audit:verify reports intact and broken chains through its exit code', async () => {
    const { t, file } = await populated();
    await t.close();
    const env = { ...process.env, NODE_ENV: 'test', DATABASE_URL: `sqlite:${file}`, AUTH_JWT_SECRET: TEST_SECRET, PSEUDONYM_KEY: TEST_PSEUDONYM_KEY };
    const cli = (args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', ...args], { cwd: join(__dirname, '../..'), env, encoding: 'utf8' });
    expect(cli([])).toContain('5 audit events checked: chain intact');
    const db = new Database(file);
    db.prepare("DELETE FROM versions WHERE type = 'AuditEvent' AND seq = (SELECT MIN(seq) FROM versions WHERE type = 'AuditEvent')").run();
    db.close();
    let code = 0;
    let out = '';
    try {
      cli([]);
    } catch (err) {
      code = (err as { status: number }).status;
      out = (err as { stdout: string }).stdout;
    }
    expect(code).toBe(1);
    expect(out).toContain('event missing');
  }, 30_000);
});
