/** Opens the store named by the configuration. */
import type { DatabaseConfig } from '../config';
import type { Store } from './port';
import { type Indexer, openSqliteStore } from './sqlite/sqlite-store';
import { openMongoStore } from './mongo/mongo-store';

/**
 * Opens the configured store: SQLite for `sqlite:` URLs, MongoDB for `mongodb://` and
 * `mongodb+srv://` (a replica set; a standalone server only with `allowStandalone`).
 */
export async function openStore(db: DatabaseConfig, indexer: Indexer): Promise<Store> {
  if (db.kind === 'sqlite') return openSqliteStore(db.file, { indexer });
  return openMongoStore(db.url, { indexer, allowStandalone: db.allowStandalone });
}
