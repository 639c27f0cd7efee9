/** Whether a real mongod can be had for the MongoDB suites, without loading any MongoDB code. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

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

/** Why the MongoDB suites cannot run here, or undefined when they can. */
export function mongoUnavailable(): string | undefined {
  if (process.env.MONGODB_URI) return undefined;
  return findMongodBinary() ? undefined : 'no MONGODB_URI and no mongod binary for mongodb-memory-server (downloads are off)';
}

