/**
 * The store contract: every Store implementation must pass these. A store's test file calls
 * `describeStoreContract(name, open)`; the MongoDB store runs the same cases.
 */
import type { AuditEvent, Patient, Resource } from '@medplum/fhirtypes';
import { type Store, VersionConflictError } from '../../src/store/port';
import type { SearchPlan } from '../../src/search/plan';

const patient = (id: string, extra: Partial<Patient> = {}): Patient & { id: string } => ({ resourceType: 'Patient', id, gender: 'female', ...extra });

function plan(p: Partial<SearchPlan> = {}): SearchPlan {
  return { types: ['Patient'], where: [], sort: [], count: 20, total: 'accurate', ...p };
}

/** Registers the contract suite for one store factory. */
export function describeStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    test('put creates version 1 with server meta; read and vread return it', async () => {
      const v = await store.unitOfWork((tx) => tx.put(patient('p1'), { custodian: 'org-a' }));
      expect(v).toMatchObject({ type: 'Patient', id: 'p1', versionId: '1', deleted: false, custodian: 'org-a', method: 'POST' });
      expect(v.resource?.meta?.versionId).toBe('1');
      expect(v.resource?.meta?.lastUpdated).toBe(v.lastUpdated);
      expect((await store.read('Patient', 'p1'))?.resource).toEqual(v.resource);
      expect((await store.vread('Patient', 'p1', '1'))?.resource).toEqual(v.resource);
      expect(await store.read('Patient', 'nope')).toBeUndefined();
      expect(await store.vread('Patient', 'p1', '2')).toBeUndefined();
      expect(await store.vread('Patient', 'p1', 'x')).toBeUndefined();
    });

    test('every version is kept; lastUpdated increases', async () => {
      const v1 = await store.unitOfWork((tx) => tx.put(patient('p1')));
      const v2 = await store.unitOfWork((tx) => tx.put(patient('p1', { gender: 'male' })));
      expect(v2.versionId).toBe('2');
      expect(v2.lastUpdated > v1.lastUpdated).toBe(true);
      expect((await store.vread('Patient', 'p1', '1'))?.resource).toMatchObject({ gender: 'female' });
      expect((await store.read('Patient', 'p1'))?.resource).toMatchObject({ gender: 'male' });
      const h = await store.history({ type: 'Patient', id: 'p1', count: 10 });
      expect(h.total).toBe(2);
      expect(h.entries.map((e) => e.versionId)).toEqual(['2', '1']);
    });

    test('remove writes a deleted version that history keeps; a second remove is a no-op', async () => {
      await store.unitOfWork((tx) => tx.put(patient('p1')));
      const del = await store.unitOfWork((tx) => tx.remove('Patient', 'p1'));
      expect(del).toMatchObject({ versionId: '2', deleted: true, method: 'DELETE' });
      const cur = await store.read('Patient', 'p1');
      expect(cur?.deleted).toBe(true);
      expect(cur?.resource).toBeUndefined();
      expect(await store.unitOfWork((tx) => tx.remove('Patient', 'p1'))).toBeUndefined();
      const h = await store.history({ type: 'Patient', id: 'p1', count: 10 });
      expect(h.entries.map((e) => [e.versionId, e.deleted])).toEqual([['2', true], ['1', false]]);
      const again = await store.unitOfWork((tx) => tx.put(patient('p1')));
      expect(again.versionId).toBe('3');
    });

    test('ifMatchVersion guards the write', async () => {
      await store.unitOfWork((tx) => tx.put(patient('p1')));
      await expect(store.unitOfWork((tx) => tx.put(patient('p1'), { ifMatchVersion: '7' }))).rejects.toBeInstanceOf(VersionConflictError);
      await expect(store.unitOfWork((tx) => tx.put(patient('p1'), { ifMatchVersion: '1' }))).resolves.toMatchObject({ versionId: '2' });
    });

    test('concurrent units of work with the same If-Match: exactly one wins', async () => {
      await store.unitOfWork((tx) => tx.put(patient('p1')));
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => store.unitOfWork((tx) => tx.put(patient('p1'), { ifMatchVersion: '1' }))),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await store.read('Patient', 'p1'))?.versionId).toBe('2');
    });

    test('a failing unit of work leaves nothing behind', async () => {
      await expect(
        store.unitOfWork(async (tx) => {
          await tx.put(patient('a'));
          await tx.put(patient('b'));
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.read('Patient', 'a')).toBeUndefined();
      expect((await store.history({ count: 10 })).total).toBe(0);
    });

    test('change counters: touch raises a stamp when its unit commits, not when it rolls back', async () => {
      expect(await store.stamp('consent')).toBe(0);
      await store.unitOfWork(async (tx) => {
        await tx.touch('consent');
        expect(await tx.stamp('consent')).toBe(1);
        expect(await store.stamp('consent')).toBe(0);
      });
      expect(await store.stamp('consent')).toBe(1);
      await expect(store.unitOfWork(async (tx) => {
        await tx.touch('consent');
        throw new Error('boom');
      })).rejects.toThrow('boom');
      expect(await store.stamp('consent')).toBe(1);
      expect(await store.stamp('other')).toBe(0);
    });

    test('reads inside a unit see its writes; reads outside see only committed data', async () => {
      let inside: unknown;
      let outside: unknown = 'unset';
      let outsideSearch: unknown = 'unset';
      let outsideHistory: unknown = 'unset';
      await store.unitOfWork(async (tx) => {
        await tx.put(patient('a'));
        inside = (await tx.read('Patient', 'a'))?.id;
        // Across a real turn of the event loop, as a request handled meanwhile would read.
        await new Promise((resolve) => setImmediate(resolve));
        outside = await store.read('Patient', 'a');
        outsideSearch = (await store.search(plan({ where: [{ kind: 'id', ids: ['a'] }] }))).total;
        outsideHistory = (await store.history({ type: 'Patient', id: 'a', count: 10 })).total;
      });
      expect(inside).toBe('a');
      expect(outside).toBeUndefined();
      expect(outsideSearch).toBe(0);
      expect(outsideHistory).toBe(0);
      expect((await store.read('Patient', 'a'))?.id).toBe('a');
    });

    test('system and type history with since, at and cursor paging', async () => {
      await store.unitOfWork((tx) => tx.put(patient('a')));
      const mid = new Date(Date.now() + 5).toISOString();
      await new Promise((r) => setTimeout(r, 10));
      await store.unitOfWork((tx) => tx.put({ resourceType: 'Organization', id: 'o1', name: 'Clinic' } as Resource & { id: string }));
      await store.unitOfWork((tx) => tx.put(patient('a', { gender: 'other' })));
      expect((await store.history({ count: 10 })).total).toBe(3);
      expect((await store.history({ type: 'Patient', count: 10 })).total).toBe(2);
      expect((await store.history({ since: mid, count: 10 })).entries.map((e) => e.type)).toEqual(['Patient', 'Organization']);
      const instant = { low: mid, high: new Date(Date.parse(mid) + 1).toISOString() };
      const at = await store.history({ type: 'Patient', at: instant, count: 10 });
      expect(at.entries.map((e) => e.versionId)).toEqual(['1']);
      // A period: every version current at some point in it (here both, and the Organization written inside it).
      const period = { low: mid, high: new Date(Date.now() + 60_000).toISOString() };
      expect((await store.history({ type: 'Patient', at: period, count: 10 })).entries.map((e) => e.versionId)).toEqual(['2', '1']);
      expect((await store.history({ at: period, count: 10 })).total).toBe(3);
      const before = { low: '2000-01-01T00:00:00.000Z', high: '2000-01-02T00:00:00.000Z' };
      expect((await store.history({ at: before, count: 10 })).total).toBe(0);
      const p1 = await store.history({ count: 2 });
      expect(p1.entries).toHaveLength(2);
      const p2 = await store.history({ count: 2, cursor: p1.nextCursor });
      expect(p2.entries).toHaveLength(1);
      expect(p2.nextCursor).toBeUndefined();
      const all = [...p1.entries, ...p2.entries].map((e) => `${e.type}/${e.id}/${e.versionId}`);
      expect(new Set(all).size).toBe(3);
    });

    test('search by _id and _lastUpdated, excluding deleted resources', async () => {
      await store.unitOfWork(async (tx) => {
        for (const id of ['a', 'b', 'c']) await tx.put(patient(id));
      });
      await store.unitOfWork((tx) => tx.remove('Patient', 'c'));
      const byId = await store.search(plan({ where: [{ kind: 'id', ids: ['a', 'c', 'zz'] }] }));
      expect(byId.matches.map((m) => m.id)).toEqual(['a']);
      expect(byId.total).toBe(1);
      const notA = await store.search(plan({ where: [{ kind: 'id', ids: ['a'], not: true }] }));
      expect(notA.matches.map((m) => m.id)).toEqual(['b']);
      const future = new Date(Date.now() + 60_000).toISOString();
      const recent = await store.search(plan({ where: [{ kind: 'lastUpdated', prefix: 'lt', range: { low: future, high: future } }] }));
      expect(recent.total).toBe(2);
      const none = await store.search(plan({ where: [{ kind: 'lastUpdated', prefix: 'gt', range: { low: future, high: future } }] }));
      expect(none.total).toBe(0);
    });

    test('keyset paging neither skips nor repeats while resources are inserted', async () => {
      await store.unitOfWork(async (tx) => {
        for (let i = 0; i < 25; i++) await tx.put(patient(`p${String(i).padStart(2, '0')}`));
      });
      const seen: string[] = [];
      let cursor: string | undefined;
      let n = 0;
      do {
        const page = await store.search(plan({ count: 7, cursor, sort: [{ param: '_id', descending: false }] }));
        seen.push(...page.matches.map((m) => m.id));
        cursor = page.nextCursor;
        // Writes between pages: ids that sort before and after the current position.
        await store.unitOfWork((tx) => tx.put(patient(`a-new-${n}`)));
        await store.unitOfWork((tx) => tx.put(patient(`z-new-${n++}`)));
      } while (cursor);
      const original = seen.filter((id) => /^p\d\d$/.test(id));
      expect(original).toHaveLength(25);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((id) => id.startsWith('a-new'))).toHaveLength(0);
    });

    test('sort by _lastUpdated descending and count-only', async () => {
      for (const id of ['x', 'y', 'z']) {
        await store.unitOfWork((tx) => tx.put(patient(id)));
        await new Promise((r) => setTimeout(r, 3)); // distinct lastUpdated instants
      }
      const r = await store.search(plan({ sort: [{ param: '_lastUpdated', descending: true }] }));
      expect(r.matches.map((m) => m.id)).toEqual(['z', 'y', 'x']);
      const c = await store.search(plan({ countOnly: true }));
      expect(c).toMatchObject({ total: 3, matches: [] });
    });

    test('reindex visits every current resource in batches and skips deleted ones', async () => {
      await store.unitOfWork(async (tx) => {
        for (let i = 0; i < 7; i++) await tx.put(patient(`r${i}`));
        await tx.remove('Patient', 'r3');
      });
      const batches: number[] = [];
      const n = await store.reindex({ batchSize: 3, onBatch: (d) => batches.push(d) });
      expect(n).toBe(6);
      expect(batches).toEqual([3, 6, 6]);
    });

    test("an AuditEvent's lastUpdated is its recorded instant, and history finds it there", async () => {
      const recorded = '2026-03-04T05:06:07.089Z';
      const event: AuditEvent = { resourceType: 'AuditEvent', recorded, type: { code: 'rest' }, agent: [], source: { observer: { display: 'test' } } };
      const v = await store.unitOfWork((tx) => tx.appendAudit(event, 'org-a'));
      expect(v.lastUpdated).toBe(recorded);
      expect((await store.read('AuditEvent', v.id))?.resource?.meta?.lastUpdated).toBe(recorded);
      const at = await store.history({ type: 'AuditEvent', since: recorded, count: 10 });
      expect(at.entries.map((e) => e.id)).toEqual([v.id]);
    });

    test('ping answers', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
