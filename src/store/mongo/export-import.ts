/**
 * Migration reads and raw imports on the MongoDB store (see src/store/migrate.ts). Imports are
 * idempotent upserts keyed by `_id`, so an interrupted migration can rerun; resource documents
 * follow the highest version imported and get their index values from the store's reindex.
 */
import type { Job } from '../port';
import type { ExportedVersion, MigrationTarget, Progress } from '../migrate';
import type { StoredVersion } from '../port';
import { type ResourceDoc, emptyIdx, resourceDoc, versionDoc } from './documents';
import { type JobDoc, toJob } from './jobs';
import type { MongoStore } from './mongo-store';

function asVersion(r: ExportedVersion): StoredVersion {
  const v: StoredVersion = { type: r.type, id: r.id, versionId: String(r.version), lastUpdated: r.lastUpdated, deleted: r.deleted, method: r.method as StoredVersion['method'] };
  if (r.custodian) v.custodian = r.custodian;
  if (r.patient) v.patient = r.patient;
  return v;
}

/** Migration endpoints over an open MongoDB store. */
export function mongoMigration(store: MongoStore): MigrationTarget {
  const c = store.collections;
  return {
    async versions(afterSeq, limit) {
      const docs = await c.versions.find({ seq: { $gt: afterSeq } }).sort({ seq: 1 }).limit(limit).toArray();
      return docs.map((d) => {
        const v: ExportedVersion = { seq: d.seq, type: d.type, id: d.id, version: d.version, lastUpdated: d.lastUpdated, deleted: d.deleted, method: d.method };
        if (d.custodian) v.custodian = d.custodian;
        if (d.patient) v.patient = d.patient;
        if (d.content !== undefined) v.content = d.content;
        return v;
      });
    },
    async enrolments(after, limit) {
      return (await c.enrolments.find({ _id: { $gt: after } }).sort({ _id: 1 }).limit(limit).toArray()).map((e) => ({ key: e._id, patientId: e.patientId, org: e.org, enrolledAt: e.enrolledAt }));
    },
    async pseudonyms(after, limit) {
      return (await c.pseudonyms.find({ _id: { $gt: after } }).sort({ _id: 1 }).limit(limit).toArray()).map((p) => ({ key2: p._id, kind: p.kind, key: p.key, patientId: p.patientId }));
    },
    async auditLinks(afterSeq, limit) {
      return (await c.auditChain.find({ _id: { $gt: afterSeq } }).sort({ _id: 1 }).limit(limit).toArray()).map((l) => ({ seq: l._id, eventId: l.eventId, prevHash: l.prevHash, hash: l.hash }));
    },
    auditHead: () => store.auditHead(),
    async jobs(afterId, limit) {
      return (await c.jobs.find({ _id: { $gt: afterId } }).sort({ _id: 1 }).limit(limit).toArray()).map(toJob);
    },
    async importVersions(rows) {
      if (!rows.length) return;
      await c.versions.bulkWrite(rows.map((r) => ({ replaceOne: { filter: { _id: `${r.type}/${r.id}/${r.version}` }, replacement: versionDoc(asVersion(r), r.seq, r.content), upsert: true } })), { ordered: false });
      // Latest version per resource in this batch, then a version-guarded upsert of its document.
      const latest = new Map<string, ExportedVersion>();
      for (const r of rows) latest.set(`${r.type}/${r.id}`, r);
      for (const [key, r] of latest) {
        const current = await c.resources.findOne({ _id: key }, { projection: { version: 1, rid: 1, enrolled: 1 } });
        if (current && current.version >= r.version) continue;
        const first = current?.rid ?? (await c.versions.find({ rk: key }).sort({ seq: 1 }).limit(1).next())!.seq;
        const doc: ResourceDoc = resourceDoc(asVersion(r), { rid: first, seq: r.seq }, r.content, emptyIdx(), current?.enrolled);
        await c.resources.replaceOne({ _id: key }, doc, { upsert: true });
      }
      const max = rows[rows.length - 1]!.seq;
      await c.counters.updateOne({ _id: 'seq' }, { $max: { n: max } }, { upsert: true });
    },
    async importEnrolments(rows) {
      for (const r of rows) {
        await c.enrolments.updateOne({ _id: `${r.patientId}|${r.org}` }, { $setOnInsert: { patientId: r.patientId, org: r.org, enrolledAt: r.enrolledAt } }, { upsert: true });
        await c.resources.updateOne({ _id: `Patient/${r.patientId}` }, { $addToSet: { enrolled: r.org } });
      }
    },
    async importPseudonyms(rows) {
      for (const r of rows) await c.pseudonyms.updateOne({ _id: `${r.kind}|${r.key}` }, { $setOnInsert: { kind: r.kind, key: r.key, patientId: r.patientId } }, { upsert: true });
    },
    async importAuditLinks(rows) {
      for (const r of rows) await c.auditChain.updateOne({ _id: r.seq }, { $setOnInsert: { eventId: r.eventId, prevHash: r.prevHash, hash: r.hash } }, { upsert: true });
    },
    async setAuditHead(head) {
      await c.counters.updateOne({ _id: 'audit_head' }, { $set: { seq: head.seq, hash: head.hash } }, { upsert: true });
    },
    async importJobs(rows: Job[]) {
      for (const j of rows) {
        const doc: JobDoc = {
          _id: j.id, queue: j.queue, state: j.state, payload: JSON.stringify(j.payload ?? null), attempts: j.attempts, notBefore: j.notBefore, created: j.created, updated: j.updated,
          ...(j.result !== undefined ? { result: JSON.stringify(j.result) } : {}), ...(j.leaseUntil ? { leaseUntil: j.leaseUntil } : {}),
          ...(j.error ? { error: j.error } : {}), ...(j.owner ? { owner: j.owner } : {}),
        };
        await c.jobs.replaceOne({ _id: j.id }, doc, { upsert: true });
      }
    },
    async progress() {
      const doc = (await c.counters.findOne({ _id: 'migration_progress' })) as { value?: string } | null;
      return doc?.value ? (JSON.parse(doc.value) as Progress) : undefined;
    },
    async setProgress(p) {
      await c.counters.updateOne({ _id: 'migration_progress' }, { $set: { value: JSON.stringify(p) } } as never, { upsert: true });
    },
    reindex: () => store.reindex(),
    close: () => store.close(),
  };
}
