/**
 * Referral metrics over a set of referral Tasks and their histories: counts by status, how many
 * were sent, accepted and completed, acceptance and completion rates, median times from sending
 * to acceptance and to completion, overdue referrals, and the same by service type.
 * Pure: the operation (metrics-operation.ts) loads the Tasks the caller may see.
 */
import type { Task } from '@medplum/fhirtypes';
import { CLOSED_STATUSES, type TaskStatus } from './state-machine';
import { deadlineOf } from './task';

/** One version's status and when it was written (meta.lastUpdated). */
export interface StatusAt {
  status: TaskStatus;
  at: string;
}

/** A referral as the metrics see it: current Task, its service code and status history, oldest first. */
export interface ReferralRecord {
  task: Task;
  service?: string;
  history: StatusAt[];
}

/** Counts for one group of referrals. */
export interface Counts {
  total: number;
  /** Reached `requested`: the referral left the requester. */
  sent: number;
  /** Reached `accepted` at some point. */
  accepted: number;
  completed: number;
  /** Still open, sent, and past its deadline. */
  overdue: number;
}

export interface Metrics extends Counts {
  byStatus: Partial<Record<TaskStatus, number>>;
  /** accepted / sent; undefined when nothing was sent. */
  acceptanceRate?: number;
  /** completed / sent; undefined when nothing was sent. */
  completionRate?: number;
  /** Median hours from the first `requested` version to the first `accepted` one. */
  medianHoursToAcceptance?: number;
  /** Median hours from the first `requested` version to the first `completed` one. */
  medianHoursToCompletion?: number;
  byService: Map<string, Counts>;
}

const HOUR_MS = 3_600_000;

/** When the history first shows `status`. */
function firstAt(history: readonly StatusAt[], status: TaskStatus): number | undefined {
  const found = history.find((h) => h.status === status);
  return found ? Date.parse(found.at) : undefined;
}

/** The median of a list of numbers (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number | undefined {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Rounds to `places` decimals, for stable output. */
export function round(v: number, places: number): number {
  const f = 10 ** places;
  return Math.round(v * f) / f;
}

/** Whether a referral is still open, was sent, and its deadline has passed at `now`. */
export function isOverdue(task: Task, now: number): boolean {
  const deadline = deadlineOf(task);
  if (!deadline || task.status === 'draft' || CLOSED_STATUSES.has(task.status)) return false;
  const ms = Date.parse(deadline);
  return !Number.isNaN(ms) && ms < now;
}

function emptyCounts(): Counts {
  return { total: 0, sent: 0, accepted: 0, completed: 0, overdue: 0 };
}

function count(into: Counts, r: ReferralRecord, now: number): void {
  into.total++;
  if (firstAt(r.history, 'requested') !== undefined) into.sent++;
  if (firstAt(r.history, 'accepted') !== undefined) into.accepted++;
  if (r.task.status === 'completed') into.completed++;
  if (isOverdue(r.task, now)) into.overdue++;
}

/** Computes the metrics of a set of referrals at `now` (epoch ms). */
export function referralMetrics(records: readonly ReferralRecord[], now: number): Metrics {
  const all = emptyCounts();
  const byStatus: Metrics['byStatus'] = {};
  const byService = new Map<string, Counts>();
  const toAcceptance: number[] = [];
  const toCompletion: number[] = [];
  for (const r of records) {
    count(all, r, now);
    byStatus[r.task.status] = (byStatus[r.task.status] ?? 0) + 1;
    const key = r.service ?? 'unspecified';
    if (!byService.has(key)) byService.set(key, emptyCounts());
    count(byService.get(key)!, r, now);
    const sent = firstAt(r.history, 'requested');
    const accepted = firstAt(r.history, 'accepted');
    const completed = r.task.status === 'completed' ? firstAt(r.history, 'completed') : undefined;
    if (sent !== undefined && accepted !== undefined) toAcceptance.push((accepted - sent) / HOUR_MS);
    if (sent !== undefined && completed !== undefined) toCompletion.push((completed - sent) / HOUR_MS);
  }
  const rate = (n: number) => (all.sent ? round(n / all.sent, 4) : undefined);
  const m1 = median(toAcceptance);
  const m2 = median(toCompletion);
  return {
    ...all,
    byStatus,
    acceptanceRate: rate(all.accepted),
    completionRate: rate(all.completed),
    medianHoursToAcceptance: m1 === undefined ? undefined : round(m1, 2),
    medianHoursToCompletion: m2 === undefined ? undefined : round(m2, 2),
    byService,
  };
}
