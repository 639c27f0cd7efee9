import { AuditGroupCommit } from '../../src/audit/group-commit';
import { AuditTrail } from '../../src/audit/recorder';
import type { Store, StoreTx } from '../../src/store/port';

function fakeStore(fail = false) {
  const units: number[] = [];
  let appended = 0;
  const tx = {
    read: async () => undefined,
    appendAudit: async () => {
      appended++;
      return {} as never;
    },
  } as unknown as StoreTx;
  const store = {
    unitOfWork: async <T>(work: (tx: StoreTx) => Promise<T>) => {
      const before = appended;
      const r = await work(tx);
      if (fail) throw new Error('disk full');
      units.push(appended - before);
      return r;
    },
  } as unknown as Store;
  return { store, units };
}

function trail(): AuditTrail {
  const t = new AuditTrail({ requestId: 'r' });
  t.add({ action: 'R', subtype: 'read', outcome: '0', references: ['Observation/x'] });
  return t;
}

test('trails committed in the same I/O phase share one unit of work, and each resolves after it', async () => {
  const { store, units } = fakeStore();
  const gc = new AuditGroupCommit(store);
  const done = await Promise.all([gc.commit(trail()), gc.commit(trail()), gc.commit(trail())]);
  expect(done).toHaveLength(3);
  expect(units).toEqual([3]);
  await gc.commit(trail());
  expect(units).toEqual([3, 1]);
});

test('a failed commit rejects every trail of the batch', async () => {
  const { store } = fakeStore(true);
  const gc = new AuditGroupCommit(store);
  const results = await Promise.allSettled([gc.commit(trail()), gc.commit(trail())]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
});
