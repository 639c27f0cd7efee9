/**
 * The HTTP suites on another store: with LINKCARE_TEST_STORE=mongodb (and MONGODB_URI pointing at
 * a replica set) startTestApp builds its app on a fresh MongoDB database instead of SQLite. The
 * app is built synchronously, so the store is a stand-in whose every call waits for the
 * connection first. `npm run test:mongodb` runs the HTTP suites this way.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../../src/store/port';
import type { Indexer } from '../../src/store/sqlite/sqlite-store';
import { openMongoStore } from '../../src/store/mongo/mongo-store';

/** Which store the HTTP suites run on. */
export function testStoreKind(): 'sqlite' | 'mongodb' {
  const kind = process.env.LINKCARE_TEST_STORE ?? 'sqlite';
  if (kind !== 'sqlite' && kind !== 'mongodb') throw new Error(`LINKCARE_TEST_STORE must be sqlite or mongodb, got "${kind}"`);
  return kind;
}

/** A store on a fresh database of MONGODB_URI, usable at once (calls wait for the connection). */
export function lazyMongoStore(indexer: Indexer): Store {
  const uri = process.env.MONGODB_URI;
  if (!uri) throw new Error('LINKCARE_TEST_STORE=mongodb needs MONGODB_URI (a replica set, e.g. mongodb://localhost:27017/?replicaSet=rs0)');
  const url = new URL(uri);
  url.pathname = `/linkcare-test-${randomUUID().slice(0, 8)}`;
  const opened = openMongoStore(url.toString(), { indexer, serverSelectionTimeoutMS: 5000 });
  const target = { kind: 'mongodb' as const, supportsTransactions: true };
  return new Proxy(target, {
    get(t, name: string | symbol) {
      if (name in t) return t[name as keyof typeof t];
      // Optional members of the Store port the MongoDB store does not have: callers test for them
      // (raw export pages, indicator queries → 501), so the stand-in must not invent them.
      if (name === 'then' || name === 'exportPage' || name === 'reports') return undefined;
      return async (...args: unknown[]) => {
        const store = (await opened) as unknown as Record<string | symbol, (...a: unknown[]) => unknown>;
        return store[name]!(...args);
      };
    },
  }) as unknown as Store;
}
