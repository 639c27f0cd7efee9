/**
 * Units of work that the store runs more than once. The MongoDB store retries a transaction after
 * a write conflict (src/store/mongo/mongo-store.ts); here an embedded store runs every unit twice,
 * rolling the first attempt back, so the behaviour is tested wherever the suite runs.
 */
import type { AuditEvent, Bundle, Observation } from '@medplum/fhirtypes';
import { BASE, FHIR_JSON, type TestApp, startTestApp, testRegistry } from '../helpers/app';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { createIndexer } from '../../src/search/indexer';
import type { Store, StoreTx } from '../../src/store/port';

const ROLLED_BACK = new Error('first attempt rolled back');

function retryingStore(): Store & { attempts: number } {
  const inner = openSqliteStore(':memory:', { indexer: createIndexer(testRegistry(), BASE) });
  const store = {
    ...inner,
    attempts: 0,
    async unitOfWork<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
      await inner
        .unitOfWork(async (tx) => {
          store.attempts++;
          await work(tx);
          throw ROLLED_BACK;
        })
        .catch((err: unknown) => {
          if (err !== ROLLED_BACK) throw err;
        });
      return inner.unitOfWork(work);
    },
  };
  return store;
}

let t: TestApp;
let store: ReturnType<typeof retryingStore>;
beforeEach(async () => {
  store = retryingStore();
  t = startTestApp({}, store);
  await t.linkcare.ready;
});
afterEach(() => t.close());

async function auditEvents(query: string): Promise<AuditEvent[]> {
  const res = await t.as(['auditor']).get(`/fhir/AuditEvent?_count=100&${query}`);
  expect(res.status).toBe(200);
  return (res.body.entry ?? []).map((e: { resource: AuditEvent }) => e.resource);
}

test('a read and a write are each on record once, though their units ran twice', async () => {
  const created = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send('{"resourceType":"Organization","name":"Twice"}');
  expect(created.status).toBe(201);
  const before = store.attempts;
  expect((await t.http.get(`/fhir/Organization/${created.body.id}`)).status).toBe(200);
  expect(store.attempts).toBeGreaterThan(before);
  const events = await auditEvents(`entity=Organization/${created.body.id}`);
  expect(events.map((e) => e.subtype?.[0]?.code).sort()).toEqual(['create', 'read']);
});

test('a transaction run twice links its entries to the resources the committed attempt created', async () => {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:5d1c3f0e-0d6a-4c59-9d6e-1f2a3b4c5d6e', resource: { resourceType: 'Patient', gender: 'female' }, request: { method: 'POST', url: 'Patient' } },
      {
        fullUrl: 'urn:uuid:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
        resource: { resourceType: 'Observation', status: 'final', code: { text: 'test' }, subject: { reference: 'urn:uuid:5d1c3f0e-0d6a-4c59-9d6e-1f2a3b4c5d6e' } },
        request: { method: 'POST', url: 'Observation' },
      },
    ],
  };
  const res = await t.http.post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
  expect(res.status).toBe(200);
  const [patientUrl, observationUrl] = (res.body.entry as { response: { location: string } }[]).map((e) => e.response.location.split('/_history')[0]!);
  const observation = (await t.http.get(`/fhir/${observationUrl!.slice(BASE.length + 1)}`)).body as Observation;
  expect(`${BASE}/${observation.subject?.reference}`).toBe(patientUrl);
  expect((await t.http.get(`/fhir/${observation.subject!.reference}`)).status).toBe(200);
  const creates = (await auditEvents('subtype=create')).filter((e) => e.entity?.some((x) => x.what?.reference === observation.subject?.reference || x.what?.reference === `Observation/${observation.id}`));
  expect(creates).toHaveLength(1);
});
