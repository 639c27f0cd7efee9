/**
 * Reads on the MongoDB store: committed data outside a unit of work, or the unit's snapshot
 * (with its own writes) inside one, through its session.
 */
import type mongoose from 'mongoose';
import type { SearchPlan } from '../../search/plan';
import { decodeCursor, encodeCursor } from '../cursor';
import type { AuditLink, HistoryPage, HistoryQuery, SearchResult, StoreReader, StoredVersion } from '../port';
import { type ResourceDoc, type VersionDoc, docToVersion } from './documents';
import type { JobDoc } from './jobs';
import { COLLECTIONS } from './indexes';
import { type ResourceQueries, resolverOf, runSearch } from './search';
import { visibilityFilter } from './translate';
import type { Filter } from './values';

type Collection<T extends mongoose.mongo.Document> = mongoose.mongo.Collection<T>;
export type Session = mongoose.mongo.ClientSession | undefined;

export interface EnrolmentDoc { _id: string; patientId: string; org: string; enrolledAt: string }
export interface PseudonymDoc { _id: string; kind: string; key: string; patientId: string }
export interface ChainDoc { _id: number; eventId: string; prevHash: string; hash: string }
export interface CounterDoc { _id: string; n?: number; seq?: number; hash?: string }

/** The store's collections, typed. */
export interface Collections {
  resources: Collection<ResourceDoc>;
  versions: Collection<VersionDoc>;
  enrolments: Collection<EnrolmentDoc>;
  pseudonyms: Collection<PseudonymDoc>;
  auditChain: Collection<ChainDoc>;
  counters: Collection<CounterDoc>;
  jobs: Collection<JobDoc>;
}

/** The typed collections of a database. */
export function collectionsOf(db: mongoose.mongo.Db): Collections {
  return {
    resources: db.collection<ResourceDoc>(COLLECTIONS.resources),
    versions: db.collection<VersionDoc>(COLLECTIONS.versions),
    enrolments: db.collection<EnrolmentDoc>(COLLECTIONS.enrolments),
    pseudonyms: db.collection<PseudonymDoc>(COLLECTIONS.pseudonyms),
    auditChain: db.collection<ChainDoc>(COLLECTIONS.auditChain),
    counters: db.collection<CounterDoc>(COLLECTIONS.counters),
    jobs: db.collection<JobDoc>(COLLECTIONS.jobs),
  };
}

/** ResourceQueries on the `resources` collection within `session`. */
export function resourceQueries(resources: Collection<ResourceDoc>, session: Session): ResourceQueries {
  return {
    find: (filter, { projection, limit }) => resources.find(filter as Filter, { session, projection, ...(limit ? { limit } : {}) }).toArray(),
    aggregate: (pipeline) => resources.aggregate(pipeline, { session }).toArray(),
    count: (filter) => resources.countDocuments(filter as Filter, { session }),
  };
}

/** History: versions newest first, the version current at `at`, visibility on the current row. */
export async function historyPipeline(q: HistoryQuery, resolve: ReturnType<typeof resolverOf>): Promise<Record<string, unknown>[]> {
  const base: Filter = {};
  // One resource's history goes through the rk index (resource_seq), not every version of its type.
  if (q.type && q.id) base.rk = `${q.type}/${q.id}`;
  else if (q.type) base.type = q.type;
  else if (q.id) base.id = q.id;
  const stages: Record<string, unknown>[] = [];
  if (q.at) {
    // A version is current from its own write until the next one: it overlaps [low, high) when it
    // was written before `high` and no later version of the resource was written by `low`.
    const { low, high } = q.at;
    stages.push(
      { $match: { ...base, lastUpdated: { $lt: high, ...(q.since ? { $gte: q.since } : {}) } } },
      {
        $lookup: {
          from: COLLECTIONS.versions,
          let: { rk: '$rk', seq: '$seq' },
          pipeline: [{ $match: { $expr: { $and: [{ $eq: ['$rk', '$$rk'] }, { $gt: ['$seq', '$$seq'] }, { $lte: ['$lastUpdated', low] }] } } }, { $limit: 1 }, { $project: { _id: 1 } }],
          as: 'superseded',
        },
      },
      { $match: { superseded: { $size: 0 } } },
      { $project: { superseded: 0 } },
    );
  } else {
    stages.push({ $match: q.since ? { ...base, lastUpdated: { $gte: q.since } } : base });
  }
  if (q.visibility?.length) {
    // Visibility is decided on the resource's current document (custody never changes).
    const vis = await visibilityFilter(q.visibility, resolve);
    stages.push({ $lookup: { from: COLLECTIONS.resources, localField: 'rk', foreignField: '_id', as: 'cur' } }, { $match: { cur: { $elemMatch: vis } } }, { $project: { cur: 0 } });
  }
  return stages;
}

export class MongoReader implements StoreReader {
  constructor(protected readonly c: Collections, protected readonly session: Session) {}

  async read(type: string, id: string): Promise<StoredVersion | undefined> {
    const doc = await this.c.resources.findOne({ _id: `${type}/${id}` }, { session: this.session, projection: { idx: 0 } });
    return doc ? docToVersion(doc) : undefined;
  }

  async vread(type: string, id: string, versionId: string): Promise<StoredVersion | undefined> {
    if (!/^[1-9][0-9]{0,15}$/.test(versionId)) return undefined;
    const doc = await this.c.versions.findOne({ _id: `${type}/${id}/${Number(versionId)}` }, { session: this.session });
    return doc ? docToVersion(doc) : undefined;
  }

  async history(q: HistoryQuery): Promise<HistoryPage> {
    const queries = resourceQueries(this.c.resources, this.session);
    const stages = await historyPipeline(q, resolverOf(queries));
    const counted = await this.c.versions.aggregate<{ n: number }>([...stages, { $count: 'n' }], { session: this.session }).toArray();
    const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = await this.c.versions
      .aggregate<VersionDoc>([...stages, ...(cursor ? [{ $match: { seq: { $lt: cursor.seq } } }] : []), { $sort: { seq: -1 } }, { $limit: q.count + 1 }], { session: this.session })
      .toArray();
    const more = rows.length > q.count;
    const page = rows.slice(0, q.count);
    const last = page[page.length - 1];
    return { entries: page.map(docToVersion), total: counted[0]?.n ?? 0, nextCursor: more && last ? encodeCursor({ seq: last.seq }) : undefined };
  }

  async search(plan: SearchPlan): Promise<SearchResult> {
    return runSearch(resourceQueries(this.c.resources, this.session), plan);
  }

  async enrolments(patientId: string): Promise<string[]> {
    return (await this.c.enrolments.find({ patientId }, { session: this.session }).sort({ org: 1 }).toArray()).map((e) => e.org);
  }

  async stamp(key: string): Promise<number> {
    return (await this.c.counters.findOne({ _id: `stamp:${key}` }, { session: this.session }))?.n ?? 0;
  }

  /** Audit chain links after `afterSeq`, with the stored event JSON. */
  async auditChain(afterSeq: number, limit: number): Promise<AuditLink[]> {
    const links = await this.c.auditChain.find({ _id: { $gt: afterSeq } }, { session: this.session }).sort({ _id: 1 }).limit(limit).toArray();
    const events = await this.c.versions
      .find({ _id: { $in: links.map((l) => `AuditEvent/${l.eventId}/1`) } }, { session: this.session, projection: { id: 1, content: 1 } })
      .toArray();
    const content = new Map(events.map((e) => [e.id, e.content]));
    return links.map((l) => {
      const c = content.get(l.eventId);
      return { seq: l._id, eventId: l.eventId, prevHash: l.prevHash, hash: l.hash, ...(c !== undefined ? { content: c } : {}) };
    });
  }

  /** The head recorded at the last append. */
  async auditHead(): Promise<{ seq: number; hash: string } | undefined> {
    const head = await this.c.counters.findOne({ _id: 'audit_head' }, { session: this.session });
    return head?.seq !== undefined && head.hash ? { seq: head.seq, hash: head.hash } : undefined;
  }
}
