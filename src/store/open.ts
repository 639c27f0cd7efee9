/** Opens the store named by the configuration. */
import type { DatabaseConfig } from '../config';
import { ConfigError } from '../config';
import type { Store } from './port';
import { type Indexer, openSqliteStore } from './sqlite/sqlite-store';

/** Opens the configured store; MongoDB arrives with its own issue. */
export async function openStore(db: DatabaseConfig, indexer: Indexer): Promise<Store> {
  if (db.kind === 'sqlite') return openSqliteStore(db.file, { indexer });
  throw new ConfigError('The MongoDB store is not available in this release; use DATABASE_URL=sqlite:…');
}
