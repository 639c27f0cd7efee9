/**
 * Collections and their indexes, created at start-up. `createIndexes` with the same keys and
 * names is a no-op, so opening the store again (or from several instances at once) is safe.
 * The search indexes are multikey over the `idx` arrays: an `$elemMatch` on `p` plus a value
 * field is answered from one index, never by a collection scan.
 */
import type mongoose from 'mongoose';

type Db = mongoose.mongo.Db;
type IndexSpec = { key: Record<string, 1 | -1>; name: string; unique?: boolean; sparse?: boolean };

/** Collection names. */
export const COLLECTIONS = {
  resources: 'resources',
  versions: 'versions',
  enrolments: 'enrolments',
  pseudonyms: 'pseudonyms',
  auditChain: 'audit_chain',
  counters: 'counters',
  jobs: 'jobs',
} as const;

const idx = (type: string, ...fields: string[]): IndexSpec => ({
  key: Object.fromEntries([['idx.' + type + '.p', 1], ...fields.map((f) => [`idx.${type}.${f}`, 1])]) as Record<string, 1>,
  name: `idx_${type}_${fields.join('_') || 'p'}`,
});

/** Every index, by collection (documented in README.md). */
export const INDEXES: Record<string, IndexSpec[]> = {
  [COLLECTIONS.resources]: [
    { key: { rid: 1 }, name: 'rid', unique: true },
    { key: { type: 1, deleted: 1, rid: 1 }, name: 'type_rid' },
    { key: { type: 1, lastUpdated: 1, rid: 1 }, name: 'type_time' },
    { key: { type: 1, id: 1 }, name: 'type_id' },
    { key: { patient: 1 }, name: 'patient', sparse: true },
    { key: { custodian: 1, type: 1 }, name: 'custodian_type' },
    { key: { enrolled: 1 }, name: 'enrolled', sparse: true },
    idx('token', 'c', 's'),
    idx('token', 'x'),
    idx('string', 'v'),
    idx('string', 'r'),
    idx('ref', 'i', 't'),
    idx('ref', 'u'),
    idx('ref', 'iv'),
    idx('date', 'lo'),
    idx('date', 'hi'),
    idx('number', 'v'),
    idx('quantity', 'v'),
    idx('quantity', 'cc', 'cv'),
    idx('uri', 'v'),
    idx('composite', 'c', 's'),
  ],
  [COLLECTIONS.versions]: [
    { key: { seq: 1 }, name: 'seq', unique: true },
    { key: { rk: 1, seq: -1 }, name: 'resource_seq' },
    { key: { type: 1, seq: -1 }, name: 'type_seq' },
    { key: { lastUpdated: 1, seq: 1 }, name: 'time' },
    { key: { type: 1, lastUpdated: 1, seq: 1 }, name: 'type_time' },
    { key: { patient: 1 }, name: 'patient', sparse: true },
  ],
  [COLLECTIONS.enrolments]: [
    { key: { patientId: 1, org: 1 }, name: 'patient_org', unique: true },
    { key: { org: 1, patientId: 1 }, name: 'org_patient' },
  ],
  [COLLECTIONS.pseudonyms]: [{ key: { patientId: 1 }, name: 'patient' }],
  [COLLECTIONS.auditChain]: [{ key: { eventId: 1 }, name: 'event', unique: true }],
  [COLLECTIONS.jobs]: [
    { key: { queue: 1, state: 1, notBefore: 1 }, name: 'due' },
    { key: { queue: 1, created: 1, _id: 1 }, name: 'queue_created' },
  ],
};

/** Creates the collections and indexes that do not exist yet (idempotent). */
export async function ensureIndexes(db: Db): Promise<void> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const name of Object.values(COLLECTIONS)) {
    // Collections cannot be created implicitly inside a transaction on older servers: create them now.
    if (!existing.has(name)) await db.createCollection(name).catch((err: { codeName?: string }) => {
      if (err.codeName !== 'NamespaceExists') throw err;
    });
    const specs = INDEXES[name];
    if (specs?.length) await db.collection(name).createIndexes(specs);
  }
}
