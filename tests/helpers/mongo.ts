/**
 * A real mongod for the MongoDB suites: MONGODB_URI when set (a replica set), else a
 * mongodb-memory-server replica set when a mongod binary is already on this machine (it is never
 * downloaded here). Without either, the suites are registered as skipped and ONE line says why;
 * skipped tests are reported as skipped, never as passed.
 */
import { randomUUID } from 'node:crypto';
import { findMongodBinary, mongoUnavailable } from './mongo-probe';
import type { Indexer } from '../../src/store/sqlite/sqlite-store';
import { type MongoStore, openMongoStore } from '../../src/store/mongo/mongo-store';

let server: Promise<{ uri: string; stop(): Promise<void> }> | undefined;

/** Starts (once per test file) the replica set, or uses MONGODB_URI. */
function startServer(binary: string | undefined): Promise<{ uri: string; stop(): Promise<void> }> {
  return (server ??= (async () => {
    if (process.env.MONGODB_URI) return { uri: process.env.MONGODB_URI, stop: async () => undefined };
    const { MongoMemoryReplSet } = await import('mongodb-memory-server');
    const set = await MongoMemoryReplSet.create({ replSet: { count: 1, storageEngine: 'wiredTiger' }, binary: { systemBinary: binary } });
    return { uri: set.getUri(), stop: async () => void (await set.stop()) };
  })());
}

/** Registers `suite` against a real server, or as skipped with one printed line saying why. */
export function describeWithMongo(name: string, suite: (uri: () => string) => void): void {
  const reason = mongoUnavailable();
  if (reason) {
    // The one line saying why is printed once per run by tests/helpers/global-setup.ts.
    describe.skip(name, () => suite(() => ''));
    return;
  }
  let uri = '';
  describe(name, () => {
    beforeAll(async () => {
      uri = (await startServer(findMongodBinary())).uri;
    }, 120_000);
    afterAll(async () => {
      await (await server)?.stop();
    });
    suite(() => uri);
  });
}

/** A store on a fresh database of the server at `uri` (or on database `name`, to open a second instance). */
export async function openTestMongoStore(uri: string, indexer?: Indexer, name = `linkcare-test-${randomUUID().slice(0, 8)}`): Promise<MongoStore> {
  const url = new URL(uri);
  url.pathname = `/${name}`;
  return openMongoStore(url.toString(), { indexer, serverSelectionTimeoutMS: 5000 });
}
