/** `reindex` rebuilds index values written under older definitions, without blocking reads. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { createIndexer } from '../../src/search/indexer';
import { parseSearch } from '../../src/search/parse';
import { BASE, testRegistry } from '../helpers/app';

const dir = mkdtempSync(join(tmpdir(), 'linkcare-reindex-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('resources written without index values become searchable after reindex; reads continue meanwhile', async () => {
  const file = join(dir, 'db.sqlite');
  const registry = testRegistry();
  const bare = openSqliteStore(file);
  await bare.unitOfWork(async (tx) => {
    for (let i = 0; i < 1200; i++) {
      await tx.put({ resourceType: 'Patient', id: `p${i}`, gender: i % 2 ? 'male' : 'female' } as Resource & { id: string });
    }
  });
  await bare.close();

  const store = openSqliteStore(file, { indexer: createIndexer(registry, BASE) });
  const plan = () => parseSearch(registry, ['Patient'], [['gender', 'male'], ['_summary', 'count']]).plan;
  expect((await store.search(plan())).total).toBe(0);
  const readsDuring: number[] = [];
  const n = await store.reindex({
    batchSize: 250,
    onBatch: () => {
      // A read between batches is served from the committed view.
      void store.read('Patient', 'p1').then((v) => readsDuring.push(v ? 1 : 0));
    },
  });
  expect(n).toBe(1200);
  expect((await store.search(plan())).total).toBe(600);
  expect(readsDuring.length).toBeGreaterThan(3);
  expect(readsDuring.every((x) => x === 1)).toBe(true);
  await store.close();
});
