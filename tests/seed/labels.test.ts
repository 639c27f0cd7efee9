/** Seeded data carries the sensitivity labels the write rules would give it, so consents apply to it. */
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { createIndexer } from '../../src/search/indexer';
import { seedStore } from '../../src/seed/write';
import { BASE, testRegistry } from '../helpers/app';
import { sensitivityOf } from '../../src/consent/labels';

test('every seeded resource has at least the labels the label table derives for it', async () => {
  const store = openSqliteStore(':memory:', { indexer: createIndexer(testRegistry(), BASE) });
  try {
    await seedStore(store, { clients: 30, seed: 5 });
    const all = await store.search({ types: ['Observation', 'Condition', 'MedicationRequest', 'MedicationDispense', 'EpisodeOfCare'], where: [], sort: [], count: 1000, total: 'none' });
    let hiv = 0;
    for (const v of all.matches) {
      const have = (v.resource!.meta?.security ?? []).map((s) => s.code);
      for (const label of sensitivityOf(v.resource!)) expect(have).toContain(label);
      if (have.includes('HIV')) hiv++;
    }
    expect(hiv).toBeGreaterThan(0);
  } finally {
    await store.close();
  }
});
