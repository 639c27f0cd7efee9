/** DDL of the embedded store. Applied idempotently at open. */
export const SCHEMA_VERSION = 1;

export const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- Every version of every resource; seq is the global write order (system history, keyset paging).
CREATE TABLE IF NOT EXISTS versions (
  seq INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  last_updated TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  method TEXT NOT NULL,
  custodian TEXT,
  content TEXT,
  UNIQUE (type, id, version)
);
CREATE INDEX IF NOT EXISTS versions_by_time ON versions (last_updated, seq);
CREATE INDEX IF NOT EXISTS versions_by_type_time ON versions (type, last_updated, seq);

-- One row per resource: its current version. rid is stable for the resource's life.
CREATE TABLE IF NOT EXISTS resources (
  rid INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  last_updated TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  custodian TEXT,
  UNIQUE (type, id)
);
CREATE INDEX IF NOT EXISTS resources_by_type_time ON resources (type, last_updated, rid);
`;
