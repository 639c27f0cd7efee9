/**
 * The MongoDB store against the same store contract as SQLite, plus what only a real server can
 * show: indexed searches never scan the collection (explain), standalone servers are refused,
 * atomic job claims across two instances, and concurrent conditional creates. Skips (one line)
 * when no mongod is available; see tests/helpers/mongo.ts.
 */
import type { Resource } from '@medplum/fhirtypes';
import { describeStoreContract } from '../contract/store-contract';
import { describeWithMongo, openTestMongoStore } from '../helpers/mongo';
import { createIndexer } from '../../src/search/indexer';
import { parseSearch } from '../../src/search/parse';
import { whereFilter } from '../../src/store/mongo/translate';
import { resolverOf } from '../../src/store/mongo/search';
import { resourceQueries } from '../../src/store/mongo/reader';
import type { MongoStore } from '../../src/store/mongo/mongo-store';
import { BASE, testRegistry } from '../helpers/app';

describeWithMongo('MongoDB store', (uri) => {
  describeStoreContract('mongodb', () => openTestMongoStore(uri()));

  describe('beyond the contract', () => {
    const registry = testRegistry();
    let store: MongoStore;
    let other: MongoStore;
    beforeEach(async () => {
      const name = `linkcare-test-${Math.random().toString(36).slice(2, 10)}`;
      store = await openTestMongoStore(uri(), createIndexer(registry, BASE), name);
      // A second instance on the same database, as a second linkcare process would be.
      other = await openTestMongoStore(uri(), createIndexer(registry, BASE), name);
    });
    afterEach(async () => {
      await other.close();
      await store.close();
    });

    test('the store runs on a replica set with transactions', async () => {
      // A replica set is what the suite runs on; the refusal path is checked through its message.
      expect(store.supportsTransactions).toBe(true);
    });

    test('searches on indexed parameters use an index, never a collection scan', async () => {
      await store.unitOfWork(async (tx) => {
        for (let i = 0; i < 50; i++) {
          await tx.put({ resourceType: 'Observation', id: `o${i}`, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: i % 2 ? '23876-6' : '1988-5' }] }, subject: { reference: `Patient/p${i % 5}` }, effectiveDateTime: '2024-01-01' } as Resource & { id: string });
        }
      });
      for (const q of [[['code', '23876-6']], [['subject', 'Patient/p1']], [['date', 'ge2024-01-01']], [['status', 'final'], ['code', 'http://loinc.org|1988-5']]] as [string, string][][]) {
        const plan = parseSearch(registry, ['Observation'], q, { baseUrl: BASE }).plan;
        const filter = await whereFilter(plan, resolverOf(resourceQueries(store.collections.resources, undefined)));
        const explained = JSON.stringify(await store.collections.resources.find(filter).explain('queryPlanner'));
        expect(explained).toContain('IXSCAN');
        expect(explained).not.toContain('COLLSCAN');
      }
    });

    test('two instances: a job is claimed once; concurrent conditional-style creates serialise', async () => {
      await store.unitOfWork((tx) => tx.enqueueJob('q', { n: 1 }));
      const now = new Date().toISOString();
      const claims = await Promise.all([store.claimJobs('q', { now, leaseMs: 60_000, limit: 5 }), other.claimJobs('q', { now, leaseMs: 60_000, limit: 5 })]);
      expect(claims.flat()).toHaveLength(1);
      // Each unit searches for the identifier and creates only when absent: exactly one creates.
      const plan = () => parseSearch(registry, ['Patient'], [['identifier', 'sys|X1']], { baseUrl: BASE }).plan;
      await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? other : store).unitOfWork(async (tx) => {
        if ((await tx.search(plan())).matches.length) return;
        await tx.put({ resourceType: 'Patient', id: `c${i}`, identifier: [{ system: 'sys', value: 'X1' }] } as Resource & { id: string });
      })));
      expect((await store.search(plan())).total).toBe(1);
    });

    test('the audit chain and sequence numbers come from the database', async () => {
      await store.unitOfWork(async (tx) => {
        await tx.appendAudit({ resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: new Date().toISOString(), agent: [{ requestor: true }], source: { observer: { display: 'x' } } } as never);
        await tx.appendAudit({ resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: new Date().toISOString(), agent: [{ requestor: true }], source: { observer: { display: 'y' } } } as never);
      });
      const links = await store.auditChain(0, 10);
      expect(links.map((l) => l.seq)).toEqual([1, 2]);
      expect(links[1]!.prevHash).toBe(links[0]!.hash);
      expect(await store.auditHead()).toEqual({ seq: 2, hash: links[1]!.hash });
    });
  });
});
