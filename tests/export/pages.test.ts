/**
 * Export pages and progress: the raw page reader (stored JSON text, no parse) against parsed search
 * pages, (lastUpdated, rid) paging with ties, progress recorded per commitMs with exactly-once
 * output after a failed turn, and jobs recorded before time-ordered pages.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { Observation } from '@medplum/fhirtypes';
import type { ExportPayload } from '../../src/export/job';
import { EXPORT_QUEUE } from '../../src/export/job';
import { runExportTurn } from '../../src/export/worker';
import { timeWhere } from '../../src/export/scope';
import { visibility } from '../../src/policy/access';
import type { SearchPlan } from '../../src/search/plan';
import type { Store } from '../../src/store/port';
import { sqliteExportPages } from '../../src/store/sqlite/export-pages';
import { type ExportApp, downloadAll, kickOff, startExportApp, waitForManifest } from './app';
import { client, observation } from './data';

const ORG = 'org-pages';
const OTHER = 'org-pages-other';

type Agent = ReturnType<ExportApp['as']>;

/** Runs turns until no export job is due (claiming as of `aheadMs` from now, to skip retry backoff). */
async function drain(t: ExportApp, aheadMs = 0): Promise<void> {
  for (;;) {
    const now = new Date(Date.now() + aheadMs).toISOString();
    const [job] = await t.store.claimJobs(EXPORT_QUEUE, { now, leaseMs: t.options.leaseMs, limit: 1 });
    if (!job) return;
    await runExportTurn(t.linkcare.ctx, job, pino({ level: 'silent' }), t.options);
  }
}

/** The bytes of each output file of a finished export, by type. */
function files(t: ExportApp, status: string, types: string[]): Map<string, string> {
  const dir = join(t.dataDir, 'exports', status.split('/').pop()!);
  return new Map(types.map((type) => [type, readFileSync(join(dir, `${type}.ndjson`), 'utf8')]));
}

/** Observations written in one unit of work at one frozen instant: they share a lastUpdated. */
async function sameInstant(t: ExportApp, patientId: string, n: number, org = ORG): Promise<string[]> {
  const ids: string[] = [];
  const frozen = jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2025-01-01T00:00:00.000Z') + Math.floor(Math.random() * 1e6));
  try {
    await t.store.unitOfWork(async (tx) => {
      for (let i = 0; i < n; i++) {
        const id = `tie-${org}-${i}-${Math.random().toString(36).slice(2, 8)}`;
        await tx.put({ resourceType: 'Observation', id, status: 'final', code: { text: `tie ${i}` }, subject: { reference: `Patient/${patientId}` } } as Observation & { id: string }, { custodian: org, patient: patientId });
        ids.push(id);
      }
    });
  } finally {
    frozen.mockRestore();
  }
  return ids;
}

describe('raw export pages', () => {
  let t: ExportApp;
  let clin: Agent;
  let made: string[];
  let ties: string[];
  beforeAll(async () => {
    t = startExportApp({ workers: false, rawPages: true, options: { pageSize: 2 } });
    clin = t.as(['clinician'], ORG);
    const other = t.as(['clinician'], OTHER);
    made = [];
    const a = await client(clin, { extension: [{ url: 'https://example.org/note', valueString: 'Niña — ✓ 😀 "quoted" \\ back\nnew line' }] });
    const b = await client(clin);
    made.push(await observation(clin, a.id, '2024-05-01T10:00:00Z'), await observation(clin, b.id, '2024-05-02T10:00:00.123+02:00'));
    const res = await clin.post('/fhir/Observation').send({
      resourceType: 'Observation', status: 'final', code: { text: 'numbers' }, subject: { reference: `Patient/${a.id}` },
      component: [1.5, 0.1, 1e21, -0, 12345678901234567890].map((value) => ({ code: { text: 'n' }, valueQuantity: { value } })),
    });
    expect(res.status).toBe(201);
    made.push(res.body.id as string);
    ties = await sameInstant(t, b.id, 5);
    // Another organisation's records: visibility must keep them out of either path.
    const hidden = await client(other);
    await observation(other, hidden.id, '2024-05-03T10:00:00Z');
  });
  afterAll(() => t.close());

  test('an identified export writes the same bytes through the raw reader as through parsed search pages, each resource as stored', async () => {
    const store: Store = t.store;
    const reader = store.exportPage!;
    const calls = jest.fn(reader);
    store.exportPage = calls;
    const rawStatus = await kickOff(clin, '/fhir/$export?_type=Patient,Observation');
    await drain(t);
    expect(calls).toHaveBeenCalled();
    delete store.exportPage;
    const parsedStatus = await kickOff(clin, '/fhir/$export?_type=Patient,Observation');
    await drain(t);
    store.exportPage = reader;

    const raw = files(t, rawStatus, ['Patient', 'Observation']);
    const parsed = files(t, parsedStatus, ['Patient', 'Observation']);
    expect(raw.get('Patient')).toBe(parsed.get('Patient'));
    expect(raw.get('Observation')).toBe(parsed.get('Observation'));
    const lines = raw.get('Observation')!.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(made.length + ties.length);
    for (const line of lines) {
      const resource = JSON.parse(line) as Observation;
      expect(line).toBe(JSON.stringify((await t.store.read('Observation', resource.id!))!.resource));
    }
    expect(raw.get('Patient')).toContain('Niña — ✓ 😀');
  });

  test('the raw reader returns what search returns, under the caller\'s visibility, and the two continue each other\'s cursors', async () => {
    const reader = sqliteExportPages(new Database(join(t.dataDir, 'linkcare.sqlite'), { readonly: true }));
    for (const sort of [[{ param: '_lastUpdated' as const, descending: false }], []]) {
      const plan: SearchPlan = {
        types: ['Observation'], where: timeWhere({ transactionTime: new Date().toISOString() }), sort, count: 2, total: 'none',
        visibility: visibility({ sub: 'x', org: ORG, roles: ['clinician'] }),
      };
      const viaSearch: string[] = [];
      const viaRaw: string[] = [];
      const mixed: string[] = [];
      let a: string | undefined;
      let b: string | undefined;
      let c: string | undefined;
      let turn = 0;
      do {
        const s = await t.store.search({ ...plan, ...(a ? { cursor: a } : {}) });
        viaSearch.push(...s.matches.map((v) => v.id));
        a = s.nextCursor;
      } while (a);
      do {
        const r = await reader({ ...plan, ...(b ? { cursor: b } : {}) });
        viaRaw.push(...r.matches.map((m) => (JSON.parse(m.json) as Observation).id!));
        b = r.nextCursor;
      } while (b);
      do {
        // Alternate the two readers page by page.
        const page = turn++ % 2 ? await reader({ ...plan, ...(c ? { cursor: c } : {}) }) : await t.store.search({ ...plan, ...(c ? { cursor: c } : {}) });
        mixed.push(...('included' in page ? page.matches.map((v) => v.id) : page.matches.map((m) => m.id)));
        c = page.nextCursor;
      } while (c);
      expect(viaSearch.sort()).toEqual([...made, ...ties].sort());
      expect(viaRaw.sort()).toEqual(viaSearch.sort());
      expect(mixed.sort()).toEqual(viaSearch.sort());
    }
  });

  test('resources sharing one lastUpdated across page boundaries are each exported once, by either reader', async () => {
    for (const raw of [true, false]) {
      const store = t.store as Store & { exportPage?: unknown };
      const reader = store.exportPage;
      if (!raw) delete store.exportPage;
      const status = await kickOff(clin, '/fhir/$export?_type=Observation');
      await drain(t);
      store.exportPage = reader;
      const manifest = await waitForManifest(clin, status);
      const ids = (await downloadAll(clin, manifest)).get('Observation')!.map((o) => o.id as string);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.filter((id) => ties.includes(id)).sort()).toEqual([...ties].sort());
    }
  });

  test('a stored text that is not one line (imported from elsewhere) is still written as one NDJSON line', async () => {
    const id = made[0]!;
    const writer = new Database(join(t.dataDir, 'linkcare.sqlite'));
    try {
      const row = writer.prepare("SELECT v.seq, v.content FROM resources r JOIN versions v ON v.seq = r.seq WHERE r.type = 'Observation' AND r.id = ?").get(id) as { seq: number; content: string };
      writer.prepare('UPDATE versions SET content = ? WHERE seq = ?').run(JSON.stringify(JSON.parse(row.content), null, 2), row.seq);
    } finally {
      writer.close();
    }
    const status = await kickOff(clin, '/fhir/$export?_type=Observation');
    await drain(t);
    const lines = files(t, status, ['Observation']).get('Observation')!.trim().split('\n');
    expect(lines).toHaveLength(made.length + ties.length);
    expect(lines).toContain(JSON.stringify((await t.store.read('Observation', id))!.resource));
  });
});

describe('progress records', () => {
  const setup = async (options: { commitMs: number; pagesPerTurn: number }) => {
    const t = startExportApp({ workers: false, options: { pageSize: 2, ...options } });
    const clin = t.as(['clinician'], ORG);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await client(clin)).id);
    return { t, clin, ids };
  };

  test('within a turn, progress is recorded at most every commitMs, and once more when the turn ends', async () => {
    for (const [commitMs, expected] of [[60_000, 1], [0, 4]] as const) {
      const { t, clin } = await setup({ commitMs, pagesPerTurn: 3 });
      try {
        await kickOff(clin, '/fhir/$export?_type=Patient');
        const updates = jest.spyOn(t.store, 'updateJob');
        expect(await t.turn()).toBe(true);
        const progressWrites = updates.mock.calls.filter(([, changes]) => changes.payload !== undefined);
        // 3 pages: one record at the end of the turn, or one per page plus the end.
        expect(progressWrites).toHaveLength(expected);
        updates.mockRestore();
      } finally {
        await t.close();
      }
    }
  });

  test('a turn that fails after writing pages it never recorded is retried without repeating them', async () => {
    const { t, clin, ids } = await setup({ commitMs: 60_000, pagesPerTurn: 1000 });
    try {
      const status = await kickOff(clin, '/fhir/$export?_type=Patient');
      const real = t.store.getJob.bind(t.store);
      let calls = 0;
      // The third "still ours?" check fails: two pages are in the file, none recorded.
      const getJob = jest.spyOn(t.store, 'getJob').mockImplementation(async (id) => {
        if (++calls === 3) throw new Error('store unavailable');
        return real(id);
      });
      await t.turn();
      getJob.mockRestore();
      const file = join(t.dataDir, 'exports', status.split('/').pop()!, 'Patient.ndjson');
      expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(4);
      expect(((await t.store.getJob(status.split('/').pop()!))!.payload as ExportPayload).progress.files).toEqual({});
      await drain(t, 60_000);
      const manifest = await waitForManifest(clin, status);
      const exported = (await downloadAll(clin, manifest)).get('Patient')!.map((p) => p.id as string);
      expect(exported.sort()).toEqual([...ids].sort());
    } finally {
      await t.close();
    }
  });

  test('a job recorded mid-type by the rid-ordered pager finishes that type in rid order, each resource once', async () => {
    const { t, clin, ids } = await setup({ commitMs: 1000, pagesPerTurn: 1000 });
    try {
      const status = await kickOff(clin, '/fhir/$export?_type=Patient,Observation');
      const jobId = status.split('/').pop()!;
      const job = (await t.store.getJob(jobId))!;
      const payload = job.payload as ExportPayload;
      // What the earlier worker recorded after its first page: a rid-order cursor, no `after`.
      const first = await t.store.search({ types: ['Patient'], where: timeWhere(payload.request), sort: [], count: 2, total: 'none', visibility: payload.request.visibility });
      const text = first.matches.map((v) => `${JSON.stringify(v.resource)}\n`).join('');
      mkdirSync(join(t.dataDir, 'exports', jobId), { recursive: true });
      writeFileSync(join(t.dataDir, 'exports', jobId, 'Patient.ndjson'), text);
      const progress = { typeIndex: 0, chunkIndex: 0, cursor: first.nextCursor, files: { Patient: { bytes: Buffer.byteLength(text), count: 2 } }, withheld: 0 };
      await t.store.updateJob(jobId, { payload: { ...payload, progress } });
      await drain(t);
      const manifest = await waitForManifest(clin, status);
      expect((await t.store.getJob(jobId))!.state).toBe('done');
      const exported = (await downloadAll(clin, manifest)).get('Patient')!.map((p) => p.id as string);
      expect(exported.sort()).toEqual([...ids].sort());
    } finally {
      await t.close();
    }
  });
});
