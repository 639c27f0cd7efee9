/** Opens the store named by the configuration. */
import type { DatabaseConfig } from '../config';
import { ConfigError } from '../config';
import type { Store } from './port';
import { openSqliteStore } from './sqlite/sqlite-store';

/** Opens the configured store; MongoDB arrives with its own issue. */
export async function openStore(db: DatabaseConfig): Promise<Store> {
  if (db.kind === 'sqlite') return openSqliteStore(db.file);
  throw new ConfigError('The MongoDB store is not available in this release; use DATABASE_URL=sqlite:…');
}
