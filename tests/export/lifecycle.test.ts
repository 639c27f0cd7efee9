/** Bulk export lifecycle over HTTP: kick-off, poll, download, cancel, expiry, audit (Bulk Data 2.0). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '@medplum/fhirtypes';
import { type ExportApp, downloadAll, kickOff, pathOf, startExportApp, waitForManifest } from './app';
import { client, observation } from './data';
import { MASKED_VALUE } from '../../src/subscriptions/mask';

const ORG = 'org-lc';

describe('export lifecycle', () => {
  let t: ExportApp;
  let clients: { id: string }[];
  beforeAll(async () => {
    t = startExportApp({ workers: false });
    const clin = t.as(['clinician'], ORG);
    clients = [await client(clin), await client(clin), await client(clin)];
    for (const [i, c] of clients.entries()) await observation(clin, c.id, `2024-03-0${i + 1}T10:00:00Z`);
  });
  afterAll(() => t.close());

  test('kick-off answers 202 with Content-Location; polling shows 202 with X-Progress until the worker is done, then 200 with the manifest', async () => {
    const clin = t.as(['clinician'], ORG);
    const res = await clin.get('/fhir/$export?_type=Patient,Observation').set({ Prefer: 'respond-async', Accept: 'application/fhir+json' });
    expect(res.status).toBe(202);
    const location = res.headers['content-location']!;
    expect(location).toMatch(/^http:\/\/localhost:8080\/bulk-export\/[0-9a-f-]{36}$/);
    const status = pathOf(location);
    const pending = await clin.get(status);
    expect(pending.status).toBe(202);
    expect(pending.headers['x-progress']).toMatch(/^0 resources; Patient \(type 1 of 2\)$/);
    // One turn with two-resource pages: progress moves and is visible.
    t.options.pagesPerTurn = 1;
    expect(await t.turn()).toBe(true);
    const partial = await clin.get(status);
    expect(partial.status).toBe(202);
    expect(partial.headers['x-progress']).toMatch(/^2 resources; Patient/);
    t.options.pagesPerTurn = 1000;
    while (await t.turn());
    const done = await clin.get(status);
    expect(done.status).toBe(200);
    expect(done.headers['content-type']).toMatch(/^application\/json/);
    expect(done.headers.expires).toBeDefined();
    const manifest = JSON.parse(done.text);
    expect(manifest).toMatchObject({ requiresAccessToken: true, error: [], request: 'http://localhost:8080/fhir/$export?_type=Patient%2CObservation' });
    expect(Date.parse(manifest.transactionTime)).not.toBeNaN();
    expect(manifest.output).toEqual([
      { type: 'Patient', url: expect.stringMatching(/\/files\/Patient\.ndjson$/), count: 3 },
      { type: 'Observation', url: expect.stringMatching(/\/files\/Observation\.ndjson$/), count: 3 },
    ]);
    const file = await clin.get(pathOf(manifest.output[0].url)).buffer(true).parse((r, cb) => {
      let d = '';
      r.on('data', (c: Buffer) => (d += c.toString('utf8')));
      r.on('end', () => cb(null, d));
    });
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toMatch(/^application\/fhir\+ndjson/);
    const lines = (file.body as string).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((p) => p.id).sort()).toEqual(clients.map((c) => c.id).sort());
  });

  test("a Subscription's channel.header values leave the server masked in an export too", async () => {
    const clin = t.as(['clinician'], ORG);
    const sub = await clin.post('/fhir/Subscription').set('Content-Type', 'application/fhir+json').send(JSON.stringify({
      resourceType: 'Subscription', status: 'requested', reason: 'Follow referrals', criteria: `Task?owner=Organization/${ORG}`,
      channel: { type: 'rest-hook', endpoint: 'https://receiver.example.org/hook', header: ['Authorization: Bearer export-secret-91c2'] },
    }));
    expect(sub.status).toBe(201);
    t.options.pagesPerTurn = 1000;
    const status = await kickOff(clin, '/fhir/$export?_type=Subscription');
    while (await t.turn());
    const files = await downloadAll(clin, await waitForManifest(clin, status));
    const exported = files.get('Subscription')!;
    expect(exported.map((r) => r.id)).toEqual([sub.body.id]);
    expect(JSON.stringify(exported)).not.toContain('export-secret-91c2');
    expect((exported[0] as { channel: { header: string[] } }).channel.header).toEqual([`Authorization: ${MASKED_VALUE}`]);
  });

  test('the export worker runs in the background when workers are on, and every resource is written exactly once', async () => {
    const w = startExportApp({ options: { pageSize: 1, pagesPerTurn: 2 } });
    try {
      const clin = w.as(['clinician'], ORG);
      const made = [await client(clin), await client(clin), await client(clin), await client(clin), await client(clin)];
      const manifest = await waitForManifest(clin, await kickOff(clin, '/fhir/$export?_type=Patient'));
      const files = await downloadAll(clin, manifest);
      expect(files.get('Patient')!.map((p) => p.id).sort()).toEqual(made.map((c) => c.id).sort());
    } finally {
      await w.close();
    }
  });

  test('kick-off refusals: no Prefer, other formats, unknown parameters (unless lenient), bad _since, roles without export', async () => {
    const clin = t.as(['clinician'], ORG);
    expect((await clin.get('/fhir/$export')).status).toBe(400);
    const prefer = { Prefer: 'respond-async' };
    expect((await clin.get('/fhir/$export?_outputFormat=text/csv').set(prefer)).status).toBe(400);
    expect((await clin.get('/fhir/$export?_outputFormat=application/fhir%2Bndjson').set(prefer)).status).toBe(202);
    expect((await clin.get('/fhir/$export?_typeFilter=Observation%3Fcode%3Dx').set(prefer)).status).toBe(400);
    expect((await clin.get('/fhir/$export?_typeFilter=x&_type=Patient').set({ Prefer: 'respond-async, handling=lenient' })).status).toBe(202);
    expect((await clin.get('/fhir/$export?_since=2024-01-01').set(prefer)).status).toBe(400);
    expect((await clin.get('/fhir/$export?_type=Nonsense').set(prefer)).status).toBe(400);
    expect((await clin.get('/fhir/Patient/$export?_type=Organization').set(prefer)).status).toBe(400);
    expect((await t.as(['outreach'], ORG).get('/fhir/$export').set(prefer)).status).toBe(403);
    expect((await t.as(['auditor'], ORG).get('/fhir/$export').set(prefer)).status).toBe(403);
    expect((await t.as(['admin'], ORG).get('/fhir/$export?_type=Observation').set(prefer)).status).toBe(403);
  });

  test('too many exports in progress for one caller: 429 with Retry-After', async () => {
    const busy = t.as(['clinician'], ORG, 'busy-user');
    for (let i = 0; i < t.options.maxActivePerOwner; i++) await kickOff(busy, '/fhir/$export?_type=Patient');
    const res = await busy.get('/fhir/$export?_type=Patient').set({ Prefer: 'respond-async' });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('60');
    while (await t.turn());
  });

  test('POST kick-off with Parameters; _since keeps only resources changed after it', async () => {
    const clin = t.as(['clinician'], ORG);
    const cut = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const late = await client(clin);
    const res = await clin.post('/fhir/$export').set({ Prefer: 'respond-async', 'Content-Type': 'application/fhir+json' }).send({
      resourceType: 'Parameters',
      parameter: [{ name: '_type', valueString: 'Patient,Observation' }, { name: '_since', valueInstant: cut }],
    });
    expect(res.status).toBe(202);
    while (await t.turn());
    const manifest = await waitForManifest(clin, pathOf(res.headers['content-location']!));
    expect(manifest.request).toBe('http://localhost:8080/fhir/$export');
    const files = await downloadAll(clin, manifest);
    expect([...files.keys()]).toEqual(['Patient']);
    expect(files.get('Patient')!.map((p) => p.id)).toEqual([late.id]);
  });

  test('Patient-level and Group-level exports cover the clients and their compartments', async () => {
    const clin = t.as(['clinician'], ORG);
    const group = await clin.post('/fhir/Group').send({ resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: `Patient/${clients[1]!.id}` } }] });
    expect(group.status).toBe(201);
    const g = await kickOff(clin, `/fhir/Group/${group.body.id}/$export?_type=Patient,Observation`);
    const p = await kickOff(clin, '/fhir/Patient/$export?_type=Observation');
    while (await t.turn());
    const gFiles = await downloadAll(clin, await waitForManifest(clin, g));
    expect(gFiles.get('Patient')!.map((r) => r.id)).toEqual([clients[1]!.id]);
    expect(gFiles.get('Observation')!.map((r) => (r.subject as { reference: string }).reference)).toEqual([`Patient/${clients[1]!.id}`]);
    const pFiles = await downloadAll(clin, await waitForManifest(clin, p));
    expect(pFiles.get('Observation')).toHaveLength(3);
    expect((await clin.get('/fhir/Group/nope/$export').set({ Prefer: 'respond-async' })).status).toBe(404);
  });

  test('status and files belong to the caller: another user, even of the same organisation, gets 404; no token gets 401', async () => {
    const clin = t.as(['clinician'], ORG);
    const status = await kickOff(clin, '/fhir/$export?_type=Patient');
    while (await t.turn());
    const manifest = await waitForManifest(clin, status);
    const other = t.as(['clinician'], ORG, 'someone-else');
    expect((await other.get(status)).status).toBe(404);
    expect((await other.get(pathOf(manifest.output[0]!.url))).status).toBe(404);
    expect((await other.delete(status)).status).toBe(404);
    expect((await t.as(['clinician'], 'org-other').get(status)).status).toBe(404);
    expect((await t.as(['reporting'], ORG, `user-clinician-${ORG}`).get(status)).status).toBe(403);
    const anon = await (await import('supertest')).default(t.linkcare.app).get(status);
    expect(anon.status).toBe(401);
    expect((await clin.get(`${status}/files/Observation.ndjson`)).status).toBe(404);
    expect((await clin.get(`${status}/files/..%2Fsecret`)).status).toBe(404);
  });

  test('DELETE cancels: 202, then the status is 404 and the files are gone', async () => {
    const clin = t.as(['clinician'], ORG);
    const status = await kickOff(clin, '/fhir/$export?_type=Patient');
    t.options.pagesPerTurn = 1;
    await t.turn();
    t.options.pagesPerTurn = 1000;
    const jobId = status.split('/').pop()!;
    const dir = join(t.dataDir, 'exports', jobId);
    expect(existsSync(dir)).toBe(true);
    expect((await clin.delete(status)).status).toBe(202);
    expect(existsSync(dir)).toBe(false);
    expect((await clin.get(status)).status).toBe(404);
    expect((await clin.delete(status)).status).toBe(404);
    // The worker never picks a cancelled job up again.
    expect(await t.turn()).toBe(false);
    expect((await t.store.getJob(jobId))!.state).toBe('cancelled');
  });

  test('a worker mid-page notices a cancellation and removes what it wrote', async () => {
    const clin = t.as(['clinician'], ORG);
    const status = await kickOff(clin, '/fhir/$export?_type=Patient');
    const jobId = status.split('/').pop()!;
    const { EXPORT_QUEUE } = await import('../../src/export/job');
    const { runExportTurn } = await import('../../src/export/worker');
    const [job] = await t.store.claimJobs(EXPORT_QUEUE, { now: new Date().toISOString(), leaseMs: 60_000, limit: 1 });
    expect((await clin.delete(status)).status).toBe(202);
    await runExportTurn(t.linkcare.ctx, job!, (await import('pino')).default({ level: 'silent' }), t.options);
    expect(existsSync(join(t.dataDir, 'exports', jobId))).toBe(false);
    expect((await t.store.getJob(jobId))!.state).toBe('cancelled');
  });

  test('files expire: after the retention time the export is gone', async () => {
    const e = startExportApp({ options: { retentionMs: 150 } });
    try {
      const clin = e.as(['clinician'], ORG);
      await client(clin);
      const status = await kickOff(clin, '/fhir/$export?_type=Patient');
      const manifest = await waitForManifest(clin, status);
      const dir = join(e.dataDir, 'exports', status.split('/').pop()!);
      expect(existsSync(dir)).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      // Past its Expires the export answers 404 at once, before the expiry worker has even run.
      expect((await clin.get(status)).status).toBe(404);
      expect((await clin.get(pathOf(manifest.output[0]!.url))).status).toBe(404);
      e.linkcare.ctx.workers!.kick('export-expiry');
      for (let i = 0; i < 100 && existsSync(dir); i++) await new Promise((r) => setTimeout(r, 20));
      expect(existsSync(dir)).toBe(false);
    } finally {
      await e.close();
    }
  });

  test('every export is audited: kick-off, completion with counts, download and cancel', async () => {
    const clin = t.as(['clinician'], ORG, 'audited-user');
    const status = await kickOff(clin, '/fhir/$export?_type=Patient,Observation');
    while (await t.turn());
    const manifest = await waitForManifest(clin, status);
    await downloadAll(clin, manifest);
    await clin.delete(status);
    const jobId = status.split('/').pop()!;
    const events = (await t.store.search({ types: ['AuditEvent'], where: [], sort: [], count: 1000, total: 'none' })).matches
      .map((v) => v.resource as AuditEvent)
      .filter((e) => e.subtype?.[0]?.code === 'export' && (e.outcomeDesc ?? '').includes(jobId));
    const descs = events.map((e) => e.outcomeDesc!);
    expect(descs).toEqual(expect.arrayContaining([
      expect.stringMatching(/started \(identified, system level\)/),
      expect.stringMatching(/complete \(identified\): Patient \d+, Observation 3/),
      expect.stringMatching(/download Patient\.ndjson/),
      expect.stringMatching(/download Observation\.ndjson/),
      expect.stringMatching(/cancelled/),
    ]));
    for (const e of events) expect(e.agent?.[0]?.altId).toBe('audited-user');
    const done = events.find((e) => /complete/.test(e.outcomeDesc!))!;
    expect(done.entity?.find((x) => x.role?.code === '24')?.description).toMatch(/^Patient,Observation: \d+ result\(s\)$/);
  });
});
