/** Opens the store named by the configuration. */
import type { DatabaseConfig } from '../config';
import type { Store } from './port';
import { type Indexer, openSqliteStore } from './sqlite/sqlite-store';

/**
 * Opens the configured store: SQLite for `sqlite:` URLs, MongoDB for `mongodb://` and
 * `mongodb+srv://` (a replica set; a standalone server only with `allowStandalone`).
 */
export async function openStore(db: DatabaseConfig, indexer: Indexer): Promise<Store> {
  if (db.kind === 'sqlite') return openSqliteStore(db.file, { indexer });
  // Loaded only when asked for: mongoose costs start-up time and memory the embedded store never needs.
  const { openMongoStore } = await import('./mongo/mongo-store');
  return openMongoStore(db.url, { indexer, allowStandalone: db.allowStandalone });
}
