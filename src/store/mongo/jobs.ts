/**
 * Durable jobs on MongoDB: enqueued inside a unit of work (an outbox), claimed one at a time with
 * `findOneAndUpdate` (atomic, so two instances never claim the same job), changed with
 * compare-and-set on the state.
 */
import { randomUUID } from 'node:crypto';
import type mongoose from 'mongoose';
import type { Job, JobChanges, JobState } from '../port';

/** A job as stored: payload and result as JSON text, so they round-trip exactly. */
export type JobDoc = Omit<Job, 'id' | 'payload' | 'result'> & {
  _id: string;
  payload: string;
  result?: string;
};

type Jobs = mongoose.mongo.Collection<JobDoc>;
type Session = mongoose.mongo.ClientSession | undefined;

/** A stored job in the port's shape. */
export function toJob(d: JobDoc): Job {
  const job: Job = {
    id: d._id, queue: d.queue, state: d.state, payload: JSON.parse(d.payload) as unknown, attempts: d.attempts,
    notBefore: d.notBefore, created: d.created, updated: d.updated,
  };
  if (d.result !== undefined) job.result = JSON.parse(d.result) as unknown;
  if (d.leaseUntil !== undefined) job.leaseUntil = d.leaseUntil;
  if (d.error !== undefined) job.error = d.error;
  if (d.owner !== undefined) job.owner = d.owner;
  return job;
}

/** Inserts a queued job (inside the unit of work's session). */
export async function enqueueJob(jobs: Jobs, session: Session, queue: string, payload: unknown, options: { id?: string; notBefore?: string; owner?: string } = {}): Promise<Job> {
  const now = new Date().toISOString();
  const doc: JobDoc = {
    _id: options.id ?? randomUUID(), queue, state: 'queued', payload: JSON.stringify(payload ?? null), attempts: 0,
    notBefore: options.notBefore ?? now, created: now, updated: now, ...(options.owner !== undefined ? { owner: options.owner } : {}),
  };
  await jobs.insertOne(doc, { session });
  return toJob(doc);
}

/** Claims up to `limit` due jobs, each atomically. */
export async function claimJobs(jobs: Jobs, queue: string, options: { now: string; leaseMs: number; limit: number }): Promise<Job[]> {
  const lease = new Date(Date.parse(options.now) + options.leaseMs).toISOString();
  const out: Job[] = [];
  while (out.length < options.limit) {
    const doc = await jobs.findOneAndUpdate(
      { queue, $or: [{ state: 'queued', notBefore: { $lte: options.now } }, { state: 'running', leaseUntil: { $lt: options.now } }] },
      { $set: { state: 'running', leaseUntil: lease, updated: options.now }, $inc: { attempts: 1 } },
      { sort: { notBefore: 1 }, returnDocument: 'after' },
    );
    if (!doc) break;
    out.push(toJob(doc));
  }
  return out;
}

const FIELDS: Record<keyof JobChanges, keyof JobDoc> = {
  state: 'state', payload: 'payload', result: 'result', attempts: 'attempts', notBefore: 'notBefore', leaseUntil: 'leaseUntil', error: 'error',
};

/** Applies changes, optionally only when the job is in `expectState` (compare-and-set). */
export async function updateJob(jobs: Jobs, id: string, changes: JobChanges, expectState?: JobState): Promise<Job | undefined> {
  const set: Record<string, unknown> = { updated: new Date().toISOString() };
  const unset: Record<string, ''> = {};
  for (const key of Object.keys(changes) as (keyof JobChanges)[]) {
    const value = changes[key];
    if (value === undefined) continue;
    if (value === null) unset[FIELDS[key]] = '';
    else set[FIELDS[key]] = key === 'payload' || key === 'result' ? JSON.stringify(value) : value;
  }
  const doc = await jobs.findOneAndUpdate(
    { _id: id, ...(expectState ? { state: expectState } : {}) },
    { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
    { returnDocument: 'after' },
  );
  return doc ? toJob(doc) : undefined;
}

/** One job, or undefined. */
export async function getJob(jobs: Jobs, id: string): Promise<Job | undefined> {
  const doc = await jobs.findOne({ _id: id });
  return doc ? toJob(doc) : undefined;
}

/** Jobs of a queue, oldest first. */
export async function listJobs(jobs: Jobs, queue: string, options: { states?: JobState[]; owner?: string; limit?: number } = {}): Promise<Job[]> {
  const filter: Record<string, unknown> = { queue };
  if (options.states?.length) filter.state = { $in: options.states };
  if (options.owner !== undefined) filter.owner = options.owner;
  return (await jobs.find(filter).sort({ created: 1, _id: 1 }).limit(options.limit ?? 1000).toArray()).map(toJob);
}
