/**
 * Durable jobs on the embedded store: enqueue inside a unit of work (outbox), claim with a lease
 * so a crashed worker's job is picked up again, compare-and-set state changes.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Job, JobChanges, JobState } from '../port';

interface JobRow {
  id: string;
  queue: string;
  state: JobState;
  payload: string;
  result: string | null;
  attempts: number;
  not_before: string;
  lease_until: string | null;
  error: string | null;
  owner: string | null;
  created: string;
  updated: string;
}

function toJob(r: JobRow): Job {
  const job: Job = {
    id: r.id,
    queue: r.queue,
    state: r.state,
    payload: JSON.parse(r.payload) as unknown,
    attempts: r.attempts,
    notBefore: r.not_before,
    created: r.created,
    updated: r.updated,
  };
  if (r.result !== null) job.result = JSON.parse(r.result) as unknown;
  if (r.lease_until !== null) job.leaseUntil = r.lease_until;
  if (r.error !== null) job.error = r.error;
  if (r.owner !== null) job.owner = r.owner;
  return job;
}

/** Inserts a queued job; call inside a unit of work. */
export function enqueueJob(db: Database.Database, queue: string, payload: unknown, options: { id?: string; notBefore?: string; owner?: string } = {}): Job {
  const now = new Date().toISOString();
  const id = options.id ?? randomUUID();
  db.prepare(
    `INSERT INTO jobs (id, queue, state, payload, attempts, not_before, owner, created, updated)
     VALUES (?, ?, 'queued', ?, 0, ?, ?, ?, ?)`,
  ).run(id, queue, JSON.stringify(payload ?? null), options.notBefore ?? now, options.owner ?? null, now, now);
  return getJob(db, id)!;
}

/** Claims due jobs atomically (the caller holds the write lock). */
export function claimJobs(db: Database.Database, queue: string, options: { now: string; leaseMs: number; limit: number }): Job[] {
  const lease = new Date(Date.parse(options.now) + options.leaseMs).toISOString();
  const rows = db
    .prepare(
      `SELECT id FROM jobs WHERE queue = ? AND (
         (state = 'queued' AND not_before <= ?) OR (state = 'running' AND lease_until < ?)
       ) ORDER BY not_before LIMIT ?`,
    )
    .all(queue, options.now, options.now, options.limit) as { id: string }[];
  const claim = db.prepare(`UPDATE jobs SET state = 'running', lease_until = ?, attempts = attempts + 1, updated = ? WHERE id = ?`);
  for (const { id } of rows) claim.run(lease, options.now, id);
  return rows.map(({ id }) => getJob(db, id)!);
}

const COLUMNS: Record<keyof JobChanges, string> = {
  state: 'state',
  payload: 'payload',
  result: 'result',
  attempts: 'attempts',
  notBefore: 'not_before',
  leaseUntil: 'lease_until',
  error: 'error',
};

/** Applies changes, optionally only when the job is in `expectState`. */
export function updateJob(db: Database.Database, id: string, changes: JobChanges, expectState?: JobState): Job | undefined {
  const sets: string[] = ['updated = ?'];
  const args: unknown[] = [new Date().toISOString()];
  for (const key of Object.keys(changes) as (keyof JobChanges)[]) {
    const value = changes[key];
    if (value === undefined) continue;
    sets.push(`${COLUMNS[key]} = ?`);
    args.push(key === 'payload' || key === 'result' ? JSON.stringify(value) : value);
  }
  let sql = `UPDATE jobs SET ${sets.join(', ')} WHERE id = ?`;
  args.push(id);
  if (expectState) {
    sql += ' AND state = ?';
    args.push(expectState);
  }
  const changed = db.prepare(sql).run(...args).changes;
  return changed ? getJob(db, id) : undefined;
}

export function getJob(db: Database.Database, id: string): Job | undefined {
  const row = db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  return row && toJob(row);
}

export function listJobs(db: Database.Database, queue: string, options: { states?: JobState[]; owner?: string; limit?: number } = {}): Job[] {
  const where = ['queue = ?'];
  const args: unknown[] = [queue];
  if (options.states?.length) {
    where.push(`state IN (${options.states.map(() => '?').join(', ')})`);
    args.push(...options.states);
  }
  if (options.owner !== undefined) {
    where.push('owner = ?');
    args.push(options.owner);
  }
  args.push(options.limit ?? 1000);
  const rows = db.prepare(`SELECT * FROM jobs WHERE ${where.join(' AND ')} ORDER BY created, id LIMIT ?`).all(...args) as JobRow[];
  return rows.map(toJob);
}
