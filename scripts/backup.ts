/**
 * `npm run backup [-- <file>]`: a consistent online copy of the embedded store with SQLite's
 * backup API (better-sqlite3 `db.backup()`), safe while linkcare runs (the WAL is included).
 * Default file: `<DATA_DIR>/backups/linkcare-<UTC timestamp>.sqlite`. For MongoDB use mongodump
 * (docs/operations.md).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config';

/** Copies the database at `file` to `target`; resolves with the pages copied. */
export async function backupSqlite(file: string, target: string): Promise<number> {
  mkdirSync(dirname(target), { recursive: true });
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const r = await db.backup(target);
    return r.totalPages;
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.database.kind !== 'sqlite' || config.database.file === ':memory:') {
    throw new ConfigError('npm run backup is for the embedded store (DATABASE_URL=sqlite:<file>); for MongoDB use mongodump (docs/operations.md)');
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = process.argv[2] ?? join(config.dataDir, 'backups', `linkcare-${stamp}.sqlite`);
  const pages = await backupSqlite(config.database.file, target);
  process.stdout.write(`backup written to ${target} (${pages} pages)\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`backup failed: ${err instanceof ConfigError ? err.message : (err as Error).stack}\n`);
    process.exit(err instanceof ConfigError ? 78 : 1);
  });
}
