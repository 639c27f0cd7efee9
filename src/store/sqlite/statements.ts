/** Prepared statements cached per connection by SQL text (preparing costs more than running). */
import type Database from 'better-sqlite3';

const CACHE_SIZE = 500;

export class Statements {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  /** The prepared statement for `sql`, prepared once. */
  get(sql: string): Database.Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      // Generated search SQL varies; drop the oldest entry rather than grow without bound.
      if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt;
  }
}
