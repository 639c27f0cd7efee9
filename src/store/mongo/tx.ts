/**
 * Writes inside a unit of work on the MongoDB store. Every write first takes the next global
 * sequence number from the `counters` document: inside a transaction that makes any two
 * concurrent writing units conflict, so one of them is retried on a fresh snapshot, and units
 * of work are serialisable as the port promises (If-Match, conditional create, the audit chain).
 */
import { checkIfMatch, dropUndefined, nextInstant, nextVersion, recordedInstant } from '../versioning';
import { newTimeOrderedId } from '../time-ordered-id';
import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import { GENESIS_HASH, linkHash } from '../../audit/chain';
import { type Job, type PseudonymKind, type StoreTx, type StoredVersion, type WriteOptions } from '../port';
import type { IndexRows } from '../../search/index-rows';
import { type ResourceDoc, emptyIdx, idxDoc, resourceDoc, versionDoc } from './documents';
import { enqueueJob } from './jobs';
import { type Collections, MongoReader, type Session } from './reader';

/** Computes a resource's search index rows (see src/search/extract.ts). */
export type Indexer = (resource: Resource) => IndexRows;

/** Raised when a compare-and-set on a resource found another version: the unit is retried. */
export class WriteRaceError extends Error {
  readonly errorLabels = ['TransientTransactionError'];
  constructor(key: string) {
    super(`Concurrent write on ${key}`);
    this.name = 'WriteRaceError';
  }
}



export class MongoTx extends MongoReader implements StoreTx {
  /** A new MongoTx is made for every unit of work, so its memo lives exactly as long. */
  readonly memo = new Map<string, unknown>();
  constructor(c: Collections, session: Session, private readonly indexer: Indexer) {
    super(c, session);
  }

  /** The next global sequence number, atomically from the database. */
  private async nextSeq(): Promise<number> {
    const doc = await this.c.counters.findOneAndUpdate({ _id: 'seq' }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after', session: this.session });
    return doc!.n!;
  }

  private async current(type: string, id: string): Promise<ResourceDoc | null> {
    return this.c.resources.findOne({ _id: `${type}/${id}` }, { session: this.session, projection: { idx: 0, content: 0 } });
  }

  /** Writes the version and the resource document (insert, or compare-and-set on the version). */
  private async write(v: StoredVersion, seq: number, current: ResourceDoc | null, content: string | undefined, idx: ResourceDoc['idx']): Promise<void> {
    const key = `${v.type}/${v.id}`;
    await this.c.versions.insertOne(versionDoc(v, seq, content), { session: this.session });
    const enrolled = v.type === 'Patient' ? current?.enrolled ?? (await this.enrolments(v.id)) : undefined;
    const doc = resourceDoc(v, { rid: current?.rid ?? seq, seq }, content, idx, enrolled);
    if (!current) {
      await this.c.resources.insertOne(doc, { session: this.session });
      return;
    }
    const r = await this.c.resources.replaceOne({ _id: key, version: current.version }, doc, { session: this.session });
    if (r.matchedCount !== 1) throw new WriteRaceError(key);
  }

  async put(resource: Resource & { id: string }, options: WriteOptions = {}): Promise<StoredVersion> {
    return (await this.putContent(resource, options)).version;
  }

  /** put, also returning the exact JSON stored (the audit chain hashes it). */
  /** put, also returning the exact JSON stored; `lastUpdated` replaces now (an AuditEvent's recorded instant). */
  private async putContent(resource: Resource & { id: string }, options: WriteOptions, lastUpdated?: string): Promise<{ version: StoredVersion; content: string }> {
    // The sequence number first: a unit whose snapshot is stale conflicts here, before it reads.
    const seq = await this.nextSeq();
    const type = resource.resourceType;
    const current = await this.current(type, resource.id);
    checkIfMatch(type, resource.id, current, options);
    const meta = { ...nextVersion(current ?? undefined, options), ...(lastUpdated ? { lastUpdated } : {}) };
    const stored = { ...resource, meta: { ...resource.meta, versionId: meta.versionId, lastUpdated: meta.lastUpdated } } as Resource;
    const version = dropUndefined<StoredVersion>({ type, id: resource.id, resource: stored, ...meta });
    const content = JSON.stringify(stored);
    await this.write(version, seq, current, content, idxDoc(type, this.indexer(stored)));
    return { version, content };
  }

  async remove(type: string, id: string, options: WriteOptions = {}): Promise<StoredVersion | undefined> {
    const seq = await this.nextSeq();
    const current = await this.current(type, id);
    checkIfMatch(type, id, current, options);
    if (!current || current.deleted) return undefined;
    const version = dropUndefined<StoredVersion>({
      type, id, versionId: String(current.version + 1), lastUpdated: nextInstant(current.lastUpdated), deleted: true, method: 'DELETE',
      custodian: current.custodian, patient: current.patient,
    });
    await this.write(version, seq, current, undefined, emptyIdx());
    return version;
  }

  async enrol(patientId: string, org: string): Promise<void> {
    await this.nextSeq();
    await this.c.enrolments.updateOne(
      { _id: `${patientId}|${org}` },
      { $setOnInsert: { patientId, org, enrolledAt: new Date().toISOString() } },
      { upsert: true, session: this.session },
    );
    // The copy on the Patient lets visibility be one indexed test.
    await this.c.resources.updateOne({ _id: `Patient/${patientId}` }, { $addToSet: { enrolled: org } }, { session: this.session });
  }

  async claimPseudonym(kind: PseudonymKind, key: string, patientId: string): Promise<boolean> {
    await this.nextSeq();
    // Look first: a duplicate-key error would abort the whole transaction.
    if (await this.c.pseudonyms.findOne({ _id: `${kind}|${key}` }, { session: this.session })) return false;
    await this.c.pseudonyms.insertOne({ _id: `${kind}|${key}`, kind, key, patientId }, { session: this.session });
    return true;
  }

  async rebindPseudonym(kind: PseudonymKind, key: string, patientId: string): Promise<void> {
    await this.c.pseudonyms.updateOne({ _id: `${kind}|${key}` }, { $set: { patientId } }, { session: this.session });
  }

  async findPseudonym(kind: PseudonymKind, key: string): Promise<string | undefined> {
    return (await this.c.pseudonyms.findOne({ _id: `${kind}|${key}` }, { session: this.session }))?.patientId;
  }

  async appendAudit(event: AuditEvent, custodian?: string): Promise<StoredVersion> {
    const { version, content } = await this.putContent({ ...event, id: newTimeOrderedId() }, { custodian, method: 'POST' }, recordedInstant(event.recorded));
    const head = await this.c.counters.findOne({ _id: 'audit_head' }, { session: this.session });
    const prevHash = head?.hash ?? GENESIS_HASH;
    const seq = (head?.seq ?? 0) + 1;
    const hash = linkHash(prevHash, content);
    // _id = seq is unique: two appends of one link can never both commit.
    await this.c.auditChain.insertOne({ _id: seq, eventId: version.id, prevHash, hash }, { session: this.session });
    await this.c.counters.updateOne({ _id: 'audit_head' }, { $set: { seq, hash } }, { upsert: true, session: this.session });
    return version;
  }

  async erasePatient(patientId: string): Promise<number> {
    await this.nextSeq();
    const docs = await this.c.resources
      .find({ $or: [{ patient: patientId }, { type: 'Patient', id: patientId }] }, { session: this.session, projection: { _id: 1 } })
      .toArray();
    const keys = docs.map((d) => d._id);
    await this.c.versions.deleteMany({ $or: [{ rk: { $in: keys } }, { patient: patientId }] }, { session: this.session });
    await this.c.resources.deleteMany({ _id: { $in: keys } }, { session: this.session });
    await this.c.enrolments.deleteMany({ patientId }, { session: this.session });
    await this.c.pseudonyms.deleteMany({ patientId }, { session: this.session });
    return keys.length;
  }

  async enqueueJob(queue: string, payload: unknown, options?: { id?: string; notBefore?: string; owner?: string }): Promise<Job> {
    return enqueueJob(this.c.jobs, this.session, queue, payload, options);
  }

  async touch(key: string): Promise<void> {
    await this.c.counters.updateOne({ _id: `stamp:${key}` }, { $inc: { n: 1 } }, { upsert: true, session: this.session });
  }

  /** Re-indexes up to `limit` current resources with rid > `afterRid`; returns the last rid seen. */
  async reindexAfter(afterRid: number, limit: number): Promise<{ lastRid: number; count: number }> {
    const docs = await this.c.resources
      .find({ rid: { $gt: afterRid }, deleted: false }, { session: this.session, projection: { rid: 1, type: 1, content: 1 } })
      .sort({ rid: 1 })
      .limit(limit)
      .toArray();
    for (const d of docs) {
      const idx = idxDoc(d.type, this.indexer(JSON.parse(d.content!) as Resource));
      await this.c.resources.updateOne({ _id: d._id }, { $set: { idx } }, { session: this.session });
    }
    return { lastRid: docs.length ? docs[docs.length - 1]!.rid : afterRid, count: docs.length };
  }
}
