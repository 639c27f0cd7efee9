import { AuditGroupCommit } from '../../src/audit/group-commit';
import { AuditTrail, auditedUnit } from '../../src/audit/recorder';
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

/** A store that, like MongoDB after a write conflict, runs each unit twice and keeps only the second attempt. */
function retryingStore() {
  const committed: string[] = [];
  let attempt: string[] = [];
  const tx = {
    read: async () => undefined,
    appendAudit: async (e: { subtype?: { code?: string }[] }) => {
      attempt.push(e.subtype?.[0]?.code ?? '?');
      return {} as never;
    },
  } as unknown as StoreTx;
  const store = {
    unitOfWork: async <T>(work: (tx: StoreTx) => Promise<T>) => {
      attempt = [];
      await work(tx); // rolled back
      attempt = [];
      const r = await work(tx);
      committed.push(...attempt);
      return r;
    },
  } as unknown as Store;
  return { store, committed };
}

test('a unit run again still commits every trail of the batch, once each', async () => {
  const { store, committed } = retryingStore();
  const gc = new AuditGroupCommit(store);
  await Promise.all([gc.commit(trail()), gc.commit(trail())]);
  expect(committed).toEqual(['read', 'read']);
});

test('auditedUnit: a retried attempt starts from the entries held before the unit; committed entries are then forgotten', async () => {
  const { store, committed } = retryingStore();
  const t = trail(); // one read entry from before the unit
  let runs = 0;
  const r = await auditedUnit(store, t, async () => {
    runs++;
    t.add({ action: 'C', subtype: 'create', outcome: '0', references: ['Observation/y'] });
    return 'done';
  });
  expect({ r, runs }).toEqual({ r: 'done', runs: 2 });
  expect(committed.sort()).toEqual(['create', 'read']);
  expect(t.size).toBe(0);
});
