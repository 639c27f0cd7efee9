/**
 * The storage port: the one interface every store (embedded SQLite, MongoDB) implements.
 * Versioning follows http://hl7.org/fhir/R4/http.html#versioning: every version is kept,
 * delete writes a deleted version, `meta.versionId`/`meta.lastUpdated` are the store's.
 */
import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import type { Predicate, SearchPlan } from '../search/plan';
import type { IndicatorQueries } from '../reporting/query';

/** One stored version of a resource. `resource` is absent for a deleted version. */
export interface StoredVersion {
  type: string;
  id: string;
  versionId: string;
  lastUpdated: string;
  deleted: boolean;
  /** The resource body with the server's meta; undefined on a delete version. */
  resource?: Resource;
  /** Organisation that holds (wrote) the resource; the access policy uses it. */
  custodian?: string;
  /** The client (Patient id) whose compartment the resource is in, if any. */
  patient?: string;
  /** The HTTP method that produced this version (history entries report it). */
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
}

/** Pseudonym kinds: the card's client code, and the keyed hash of a UIC. */
export type PseudonymKind = 'client-code' | 'uic-hash';

/** One link of the audit hash chain, with the event it covers. */
export interface AuditLink {
  seq: number;
  eventId: string;
  prevHash: string;
  hash: string;
  /** The stored AuditEvent JSON exactly as hashed, or undefined when the event row is missing. */
  content?: string;
}

/** Options for writing a version. */
export interface WriteOptions {
  /** Organisation that holds the resource (from the principal). Kept from the first version on. */
  custodian?: string;
  /** The client the resource is about (its Patient compartment), for consent and erasure. */
  patient?: string;
  /** When set, the write fails with a version conflict unless the current version matches. */
  ifMatchVersion?: string;
  /** Request method recorded in history. */
  method?: StoredVersion['method'];
}

/** Thrown by a store when `ifMatchVersion` does not match the current version. */
export class VersionConflictError extends Error {
  constructor(readonly type: string, readonly id: string, readonly currentVersion: string | undefined) {
    super(`Version conflict on ${type}/${id}`);
    this.name = 'VersionConflictError';
  }
}

/** A page of history entries, newest first. */
export interface HistoryQuery {
  type?: string;
  id?: string;
  /** Only versions written at or after this instant. */
  since?: string;
  /**
   * Only the versions current at some point during [low, high) (http://hl7.org/fhir/R4/http.html#history,
   * `_at`): per resource, the one current at `low` and any written after it and before `high`.
   */
  at?: { low: string; high: string };
  count: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  /** Access-policy predicates the resource must satisfy (as in SearchPlan.visibility). */
  visibility?: Predicate[];
}

export interface HistoryPage {
  entries: StoredVersion[];
  total: number;
  nextCursor?: string;
}

/** Result of running a search plan. */
export interface SearchResult {
  matches: StoredVersion[];
  /** Included resources (`_include`/`_revinclude`), never counted in `total`. */
  included: StoredVersion[];
  total?: number;
  nextCursor?: string;
}

/** States of a background job (subscription deliveries, bulk exports, …). */
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/**
 * A durable background job. Workers in any linkcare instance claim due jobs atomically (a lease),
 * so a job survives restarts and two instances never run it at once.
 */
export interface Job {
  id: string;
  queue: string;
  state: JobState;
  /** The job's input and progress, JSON. */
  payload: unknown;
  /** The job's output, JSON (e.g. an export manifest). */
  result?: unknown;
  attempts: number;
  /** Not to be run before this instant. */
  notBefore: string;
  /** While running: the lease expiry; a job whose lease expired is claimable again (its worker died). */
  leaseUntil?: string;
  error?: string;
  /** Who the job belongs to (e.g. the principal that kicked off an export). */
  owner?: string;
  created: string;
  updated: string;
}

/** Changes to a job; null clears an optional field. */
export interface JobChanges {
  state?: JobState;
  payload?: unknown;
  result?: unknown;
  attempts?: number;
  notBefore?: string;
  leaseUntil?: string | null;
  error?: string | null;
}

/** Reads available both inside and outside a unit of work. */
export interface StoreReader {
  /** Current version (including a deleted marker), or undefined when never existed. */
  read(type: string, id: string): Promise<StoredVersion | undefined>;
  /** A specific version, or undefined. */
  vread(type: string, id: string, versionId: string): Promise<StoredVersion | undefined>;
  history(query: HistoryQuery): Promise<HistoryPage>;
  search(plan: SearchPlan): Promise<SearchResult>;
  /**
   * Optional: a page of a search's matches as their stored JSON text, for identified bulk export
   * (no parse and re-serialise per resource). Same matches, order and cursors as `search` of an
   * unsorted plan, so the two continue each other.
   */
  exportPage?(plan: SearchPlan): Promise<{ matches: { type: string; id: string; lastUpdated: string; json: string }[]; nextCursor?: string }>;
  /** Organisations where a client is enrolled (who may see the client's Patient). */
  enrolments(patientId: string): Promise<string[]>;
  /**
   * A change counter: raised by `touch(key)` in every unit of work that changes what `key`
   * stands for (e.g. 'consent'). Caches compare it to know they are current, on every instance.
   */
  stamp(key: string): Promise<number>;
}

/** Writes (and reads that must see them) inside one atomic unit of work. */
export interface StoreTx extends StoreReader {
  /**
   * Scratch space that lives exactly as long as this unit of work: rules memoise lookups here
   * (e.g. the live subscriptions of a type, once per transaction Bundle instead of per entry).
   */
  readonly memo: Map<string, unknown>;
  /** Writes a new version (create when absent, update otherwise); returns it. */
  put(resource: Resource & { id: string }, options?: WriteOptions): Promise<StoredVersion>;
  /** Writes a deleted version; returns it, or undefined when nothing current existed. */
  remove(type: string, id: string, options?: WriteOptions): Promise<StoredVersion | undefined>;
  /** Enrols a client at an organisation (idempotent). */
  enrol(patientId: string, org: string): Promise<void>;
  /** Binds a pseudonym to a client; false when the pseudonym is already bound (a collision or a duplicate). */
  claimPseudonym(kind: PseudonymKind, key: string, patientId: string): Promise<boolean>;
  /** Binds an existing pseudonym to another client (its old client was deleted or erased). */
  rebindPseudonym(kind: PseudonymKind, key: string, patientId: string): Promise<void>;
  /** The client a pseudonym is bound to. */
  findPseudonym(kind: PseudonymKind, key: string): Promise<string | undefined>;
  /** Appends an AuditEvent (server-assigned id), held by `custodian`, to the store and to the hash chain. */
  appendAudit(event: AuditEvent, custodian?: string): Promise<StoredVersion>;
  /**
   * Right to erasure: removes the client's Patient and every resource in its compartment, with all
   * their versions, index rows, enrolments and pseudonyms. Audit events stay (they name only the
   * client code). Returns how many resources were removed.
   */
  erasePatient(patientId: string): Promise<number>;
  /** Raises the change counter `key` (see StoreReader.stamp); it commits with the unit of work. */
  touch(key: string): Promise<void>;
  /** Adds a job to `queue` in this unit of work (an outbox: it exists only if the unit commits). */
  enqueueJob(queue: string, payload: unknown, options?: { id?: string; notBefore?: string; owner?: string }): Promise<Job>;
}

/** The store. Units of work are serialisable with respect to each other. */
export interface Store extends StoreReader {
  readonly kind: 'sqlite' | 'mongodb';
  /** False only for a MongoDB standalone server allowed in development: units of work are not atomic there. */
  readonly supportsTransactions?: boolean;
  /**
   * Runs `work` atomically: everything it writes commits together or not at all.
   * Reads inside see the unit's own writes. A store may run `work` more than once (the MongoDB
   * store retries after a write conflict), so `work` keeps its effects inside the unit or undoes
   * them per attempt (audit entries: `auditedUnit` in src/audit/recorder.ts).
   */
  unitOfWork<T>(work: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * Rebuilds the search index of every current resource, in batches of `batchSize`, each its own
   * short unit of work so reads and writes go on meanwhile. Returns how many were indexed.
   */
  reindex(options?: { batchSize?: number; onBatch?: (done: number) => void }): Promise<number>;
  /** Reads the audit chain in order, `limit` links after `afterSeq` (for verification). */
  auditChain(afterSeq: number, limit: number): Promise<AuditLink[]>;
  /** The chain head recorded at the last append: `seq` and `hash`, or undefined when empty. */
  auditHead(): Promise<{ seq: number; hash: string } | undefined>;
  /**
   * Atomically claims up to `limit` due jobs of `queue` (queued with notBefore ≤ now, or running
   * with an expired lease): marks them running with a lease of `leaseMs` and counts the attempt.
   */
  claimJobs(queue: string, options: { now: string; leaseMs: number; limit: number }): Promise<Job[]>;
  /** Changes a job; with `expectState`, only when it is in that state (compare-and-set). Returns the job after. */
  updateJob(id: string, changes: JobChanges, expectState?: JobState): Promise<Job | undefined>;
  getJob(id: string): Promise<Job | undefined>;
  /** Jobs of a queue, oldest first. */
  listJobs(queue: string, options?: { states?: JobState[]; owner?: string; limit?: number }): Promise<Job[]>;
  /** Makes removed data unrecoverable from the storage files (after an erasure). */
  purge(): Promise<void>;
  /** Indicator counts aggregated in the store (src/reporting/query.ts); absent when the store has none. */
  reports?(): IndicatorQueries;
  /** Resolves when the store answers; used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
