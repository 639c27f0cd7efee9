/** DDL of the embedded store. Applied idempotently at open. */
export const SCHEMA_VERSION = 1;

/** The AuditEvent key table (audit-log.ts), and the order of its key (audit-upgrade.ts checks it). */
export const AUDIT_KEY_COLUMNS = ['bucket', 'param', 'a', 'seq', 'b'];
export const AUDIT_KEYS_DDL = `
-- Search keys of AuditEvents (audit-log.ts): an event is a version row plus these, never a
-- resource row or generic index rows. seq is the event's versions.seq; bucket = seq >> 13. seq
-- before b: a test of one event's key is one seek whether or not the value names a system.
CREATE TABLE IF NOT EXISTS audit_keys (
  bucket INTEGER NOT NULL,
  param TEXT NOT NULL,
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (bucket, param, a, seq, b)
) WITHOUT ROWID;
`;

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
  patient TEXT,
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
  patient TEXT,
  UNIQUE (type, id)
);
CREATE INDEX IF NOT EXISTS resources_by_type_time ON resources (type, last_updated, rid);
CREATE INDEX IF NOT EXISTS resources_by_patient ON resources (patient);

-- Where each client is enrolled: the Patient is visible to these organisations.
CREATE TABLE IF NOT EXISTS enrolments (
  patient_id TEXT NOT NULL,
  org TEXT NOT NULL,
  enrolled_at TEXT NOT NULL,
  PRIMARY KEY (patient_id, org)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS enrolments_by_org ON enrolments (org, patient_id);

-- Client codes and keyed UIC hashes, each bound to one client; never the UIC itself.
CREATE TABLE IF NOT EXISTS pseudonyms (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pseudonyms_by_patient ON pseudonyms (patient_id);

-- The audit hash chain: hash = SHA-256(prev_hash || event JSON); the head is kept in meta.
CREATE TABLE IF NOT EXISTS audit_chain (
  seq INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);

-- AuditEvents appended (and chained) but not yet in the audit log: a request writes one row here,
-- and the store moves rows into versions and audit_keys in batches (audit-journal.ts). seq is the
-- event's audit_chain seq.
CREATE TABLE IF NOT EXISTS audit_journal (
  seq INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL,
  custodian TEXT,
  last_updated TEXT NOT NULL,
  content TEXT NOT NULL
);

${AUDIT_KEYS_DDL}

-- Change counters (StoreReader.stamp): caches of derived data compare them to stay current.
CREATE TABLE IF NOT EXISTS stamps (key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;

-- Durable background jobs (outbox deliveries, exports); claimed with a lease.
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  state TEXT NOT NULL,
  payload TEXT NOT NULL,
  result TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  not_before TEXT NOT NULL,
  lease_until TEXT,
  error TEXT,
  owner TEXT,
  created TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (queue, state, not_before);
`;

/**
 * Search index tables: one per parameter type, keyed by the resource's rid and the
 * type-qualified parameter (`Observation.code`). Rows describe current versions only.
 */
export const INDEX_DDL = `
CREATE TABLE IF NOT EXISTS idx_token (rid INTEGER NOT NULL, param TEXT NOT NULL, system TEXT, code TEXT, text TEXT, type_system TEXT, type_code TEXT);
CREATE INDEX IF NOT EXISTS idx_token_code_rid ON idx_token (param, code, system, rid);
CREATE INDEX IF NOT EXISTS idx_token_rid ON idx_token (rid, param);

CREATE TABLE IF NOT EXISTS idx_string (rid INTEGER NOT NULL, param TEXT NOT NULL, value TEXT NOT NULL, raw TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_string_value ON idx_string (param, value);
CREATE INDEX IF NOT EXISTS idx_string_rid ON idx_string (rid, param);

CREATE TABLE IF NOT EXISTS idx_ref (rid INTEGER NOT NULL, param TEXT NOT NULL, target_type TEXT, target_id TEXT, version TEXT, url TEXT, id_system TEXT, id_value TEXT);
CREATE INDEX IF NOT EXISTS idx_ref_target_rid ON idx_ref (param, target_id, target_type, rid);
CREATE INDEX IF NOT EXISTS idx_ref_url ON idx_ref (param, url);
CREATE INDEX IF NOT EXISTS idx_ref_rid ON idx_ref (rid, param);

CREATE TABLE IF NOT EXISTS idx_date (rid INTEGER NOT NULL, param TEXT NOT NULL, low TEXT NOT NULL, high TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_date_low_rid ON idx_date (param, low, high, rid);
CREATE INDEX IF NOT EXISTS idx_date_high ON idx_date (param, high);
CREATE INDEX IF NOT EXISTS idx_date_rid ON idx_date (rid, param);

-- Per date parameter, the longest and shortest (high - low) ever stored and the most rows one
-- resource has had: they bound where a date window can start (see dateWindow in search-sql.ts).
-- Only ever widened (IndexWriter.write), so deletes and re-indexing keep them safe.
CREATE TABLE IF NOT EXISTS param_span (param TEXT PRIMARY KEY, max_ms INTEGER NOT NULL, min_ms INTEGER NOT NULL, max_rows INTEGER NOT NULL) WITHOUT ROWID;
-- A store indexed before the table existed fills it once from its rows; the meta mark makes this
-- a no-op on every later open (the constant WHERE is checked before idx_date is read).
INSERT OR IGNORE INTO param_span (param, max_ms, min_ms, max_rows)
  SELECT param, MAX(hi), MIN(lo), MAX(n) FROM (
    SELECT param, COUNT(*) AS n,
      MAX(CAST(ROUND((julianday(high) - julianday(low)) * 86400000.0) AS INTEGER)) AS hi,
      MIN(CAST(ROUND((julianday(high) - julianday(low)) * 86400000.0) AS INTEGER)) AS lo
    FROM idx_date WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'param_span') GROUP BY rid, param)
  GROUP BY param;
INSERT OR IGNORE INTO meta (key, value) VALUES ('param_span', '1');

CREATE TABLE IF NOT EXISTS idx_number (rid INTEGER NOT NULL, param TEXT NOT NULL, value REAL NOT NULL);
CREATE INDEX IF NOT EXISTS idx_number_value ON idx_number (param, value);
CREATE INDEX IF NOT EXISTS idx_number_rid ON idx_number (rid, param);

CREATE TABLE IF NOT EXISTS idx_quantity (rid INTEGER NOT NULL, param TEXT NOT NULL, value REAL NOT NULL, system TEXT, code TEXT, unit TEXT, canonical_value REAL, canonical_code TEXT);
CREATE INDEX IF NOT EXISTS idx_quantity_value ON idx_quantity (param, value);
CREATE INDEX IF NOT EXISTS idx_quantity_canonical ON idx_quantity (param, canonical_code, canonical_value);
CREATE INDEX IF NOT EXISTS idx_quantity_rid ON idx_quantity (rid, param);

CREATE TABLE IF NOT EXISTS idx_uri (rid INTEGER NOT NULL, param TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_uri_value ON idx_uri (param, value);
CREATE INDEX IF NOT EXISTS idx_uri_rid ON idx_uri (rid, param);

CREATE TABLE IF NOT EXISTS idx_composite (rid INTEGER NOT NULL, param TEXT NOT NULL, system TEXT, code TEXT, second TEXT NOT NULL,
  second_system TEXT, second_code TEXT, second_value REAL, second_canonical_value REAL, second_canonical_code TEXT,
  second_low TEXT, second_high TEXT, second_text TEXT);
CREATE INDEX IF NOT EXISTS idx_composite_code ON idx_composite (param, code, system);
CREATE INDEX IF NOT EXISTS idx_composite_rid ON idx_composite (rid, param);
`;

/**
 * Indexes replaced by the covering ones above (ending in rid, so equality ranges come out in rid
 * order and the page can stream from the index). Dropped at open; see bench/results/search-latest.md.
 */
export const RETIRED_INDEXES = ['idx_token_code', 'idx_ref_target', 'idx_date_low'];

/** Index table of each parameter type. */
export const INDEX_TABLE: Record<string, string> = {
  token: 'idx_token',
  string: 'idx_string',
  reference: 'idx_ref',
  date: 'idx_date',
  number: 'idx_number',
  quantity: 'idx_quantity',
  uri: 'idx_uri',
  composite: 'idx_composite',
};
