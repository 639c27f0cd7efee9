/**
 * A real mongod for the MongoDB suites: MONGODB_URI when set (a replica set), else a
 * mongodb-memory-server replica set when a mongod binary is already on this machine (it is never
 * downloaded here). Without either, the suites are registered as skipped and ONE line says why;
 * skipped tests are reported as skipped, never as passed.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Indexer } from '../../src/store/sqlite/sqlite-store';
import { type MongoStore, openMongoStore } from '../../src/store/mongo/mongo-store';

/** A mongod binary already on disk (MONGOMS_SYSTEM_BINARY, the memory-server caches, PATH), or undefined. */
export function findMongodBinary(): string | undefined {
  const explicit = process.env.MONGOMS_SYSTEM_BINARY;
  if (explicit && existsSync(explicit)) return explicit;
  const caches = [process.env.MONGOMS_DOWNLOAD_DIR, join(homedir(), '.cache', 'mongodb-binaries'), join(process.cwd(), 'node_modules', '.cache', 'mongodb-memory-server')];
  for (const dir of caches) {
    if (!dir || !existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.startsWith('mongod') && statSync(join(dir, f)).isFile()) return join(dir, f);
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, 'mongod'))) return join(dir, 'mongod');
  return undefined;
}

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

/** Why the MongoDB suites cannot run here, or undefined when they can. */
export function mongoUnavailable(): string | undefined {
  if (process.env.MONGODB_URI) return undefined;
  return findMongodBinary() ? undefined : 'no MONGODB_URI and no mongod binary for mongodb-memory-server (downloads are off)';
}

/** Registers `suite` against a real server, or as skipped with one printed line saying why. */
export function describeWithMongo(name: string, suite: (uri: () => string) => void): void {
  const reason = mongoUnavailable();
  if (reason) {
    process.stdout.write(`MongoDB suite "${name}" skipped: ${reason}\n`);
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
