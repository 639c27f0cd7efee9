/**
 * The referral Task state machine: which party may move a referral from which status to which.
 * Built on the R4 Task state machine (http://hl7.org/fhir/R4/task.html#statemachine) and the
 * closed-loop pattern of shared/domain.md: the requesting organisation sends and may cancel until
 * the referral is closed; the receiving (owner) organisation answers and does the work.
 * Pure: no store, no clock. The write rule (rule.ts) applies it to each write.
 */
import type { Task } from '@medplum/fhirtypes';

export type TaskStatus = Task['status'];

/** The two sides of a referral. */
export type Party = 'requester' | 'owner';

/** Statuses a referral can be created in: the requester drafts it or sends it at once. */
export const CREATE_STATUSES: readonly TaskStatus[] = ['draft', 'requested'];

/**
 * Closed statuses: nothing may change once a referral is here. `entered-in-error` and `ready`
 * are R4 statuses this server never moves a referral into, so no transition leaves them either.
 */
export const CLOSED_STATUSES: ReadonlySet<TaskStatus> = new Set(['completed', 'cancelled', 'rejected', 'failed', 'entered-in-error']);

/** Statuses in which a referral is still open (for worklists and overdue counts). */
export const OPEN_STATUSES: readonly TaskStatus[] = ['draft', 'requested', 'received', 'accepted', 'in-progress', 'on-hold', 'ready'];

/**
 * The requester sends a draft and may cancel any referral that is not yet closed
 * ("cancel before completion", issue #6).
 */
const REQUESTER: Partial<Record<TaskStatus, readonly TaskStatus[]>> = {
  draft: ['requested', 'cancelled'],
  requested: ['cancelled'],
  received: ['cancelled'],
  accepted: ['cancelled'],
  'in-progress': ['cancelled'],
  'on-hold': ['cancelled'],
};

/**
 * The owner acknowledges (received), decides (accepted | rejected), works (in-progress, on-hold)
 * and closes (completed | failed). Work starts only after acceptance, so every completed referral
 * has an acceptance time for the metrics; a one-visit service goes accepted → completed.
 */
const OWNER: Partial<Record<TaskStatus, readonly TaskStatus[]>> = {
  requested: ['received', 'accepted', 'rejected'],
  received: ['accepted', 'rejected'],
  accepted: ['in-progress', 'on-hold', 'completed', 'failed'],
  'in-progress': ['on-hold', 'completed', 'failed'],
  'on-hold': ['in-progress', 'completed', 'failed'],
};

const TABLE: Record<Party, Partial<Record<TaskStatus, readonly TaskStatus[]>>> = { requester: REQUESTER, owner: OWNER };

/** Statuses that need `statusReason` (issue #6: rejecting, holding or failing says why). */
export const NEEDS_REASON: ReadonlySet<TaskStatus> = new Set(['rejected', 'on-hold', 'failed']);

/** The statuses `parties` may move a referral to from `from` (an organisation may be both parties). */
export function allowedTransitions(from: TaskStatus, parties: readonly Party[]): TaskStatus[] {
  const out = new Set<TaskStatus>();
  for (const party of parties) for (const to of TABLE[party][from] ?? []) out.add(to);
  return [...out];
}

/** Which party may move a referral from `from` to `to`, if any (for error messages). */
export function partiesFor(from: TaskStatus, to: TaskStatus): Party[] {
  return (['requester', 'owner'] as const).filter((p) => (TABLE[p][from] ?? []).includes(to));
}

/** Whether `parties` may move a referral from `from` to `to` (http://hl7.org/fhir/R4/task.html#statemachine). */
export function mayTransition(from: TaskStatus, to: TaskStatus, parties: readonly Party[]): boolean {
  return allowedTransitions(from, parties).includes(to);
}

/** Every transition of the machine, for documentation and exhaustive tests. */
export function allTransitions(): { party: Party; from: TaskStatus; to: TaskStatus }[] {
  const out: { party: Party; from: TaskStatus; to: TaskStatus }[] = [];
  for (const party of ['requester', 'owner'] as const) {
    for (const [from, tos] of Object.entries(TABLE[party]) as [TaskStatus, readonly TaskStatus[]][]) {
      for (const to of tos) out.push({ party, from, to });
    }
  }
  return out;
}
