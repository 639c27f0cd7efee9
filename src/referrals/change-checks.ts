/**
 * Checks of a change to an existing referral: who is changing it (requester, owner or both),
 * which fields that party may touch, whether the status transition is allowed, and what the new
 * status needs (a reason, or what was done). Runs against `previous`, the current version read
 * inside the same unit of work, so of two concurrent transitions only the first can pass.
 */
import type { Task, TaskOutput } from '@medplum/fhirtypes';
import type { Principal } from '../auth/principal';
import { forbidden, unprocessable } from '../fhir/outcome';
import type { StoreReader, StoredVersion } from '../store/port';
import { canSee } from '../policy/access';
import { closedRefusal, transitionRefused } from './refusals';
import { CLOSED_STATUSES, NEEDS_REASON, type Party, mayTransition } from './state-machine';
import { EXPOSURE_EXTENSION, refId } from './task';

/** Resources a completed referral may point at as what was done (issue #6). */
export const OUTPUT_TYPES = ['Encounter', 'Observation', 'MedicationRequest', 'Immunization', 'Procedure'];

/** Which parties the caller is: the requesting organisation holds the Task; the owner receives it. */
export function partiesOf(previous: StoredVersion, principal: Principal): Party[] {
  const task = previous.resource as Task;
  const parties: Party[] = [];
  if (previous.custodian === principal.org) parties.push('requester');
  if (refId(task.owner, 'Organization') === principal.org) parties.push('owner');
  return parties;
}

/** JSON with sorted keys, so that equal content compares equal whatever the key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** The content that matters for change checks: without meta and the server's lastModified. */
function content(task: Task): unknown {
  const { meta: _m, lastModified: _l, ...rest } = task;
  return rest;
}

const exposure = (t: Task) => t.extension?.filter((e) => e.url === EXPOSURE_EXTENSION);

/** Fields nobody may change once the referral exists: it would become another referral. */
const FIXED: (keyof Task)[] = ['intent', 'code', 'focus', 'for', 'requester'];
/** Fields only the requesting side sets: urgency, deadline and when it was asked for. */
const REQUESTER_ONLY: (keyof Task)[] = ['priority', 'restriction', 'authoredOn'];

/** Refuses (422) changes to fields the caller's side may not make. */
export function checkFields(prev: Task, next: Task, parties: readonly Party[]): void {
  for (const f of FIXED) {
    if (!same(prev[f], next[f])) throw unprocessable(`Task.${f} cannot change on a referral; cancel it and make a new one`, `Task.${f}`);
  }
  const requester = parties.includes('requester');
  const owner = parties.includes('owner');
  if (!same(prev.owner, next.owner) && !(requester && prev.status === 'draft')) {
    throw unprocessable('Task.owner can only be changed by the requesting organisation while the referral is a draft', 'Task.owner');
  }
  if (!requester) {
    for (const f of REQUESTER_ONLY) {
      if (!same(prev[f], next[f])) throw unprocessable(`Only the requesting organisation may change Task.${f}`, `Task.${f}`);
    }
    if (!same(exposure(prev), exposure(next))) throw unprocessable('Only the requesting organisation may change the exposure time', 'Task.extension');
  }
  if (!owner && !same(prev.output, next.output)) throw unprocessable('Only the receiving organisation (owner) records Task.output', 'Task.output');
}

/** Whether an output says what was done: a reference to a care resource, or a coded outcome. */
function isOutcome(o: TaskOutput): boolean {
  if (o.valueCodeableConcept) return !!(o.valueCodeableConcept.coding?.length || o.valueCodeableConcept.text);
  const type = /^([A-Za-z]+)\//.exec(o.valueReference?.reference ?? '')?.[1];
  return !!type && OUTPUT_TYPES.includes(type);
}

/** What a status needs: a reason for rejected, on-hold and failed; an outcome for completed. */
export async function checkRequirements(reader: StoreReader, next: Task, principal: Principal): Promise<void> {
  if (NEEDS_REASON.has(next.status) && !(next.statusReason?.text || next.statusReason?.coding?.length)) {
    throw unprocessable(`A referral set to ${next.status} needs Task.statusReason (why)`, 'Task.statusReason');
  }
  if (next.status !== 'completed') return;
  const outputs = next.output ?? [];
  if (!outputs.some(isOutcome)) {
    throw unprocessable(`A completed referral needs Task.output: a reference to what was done (${OUTPUT_TYPES.join(', ')}) or a coded outcome`, 'Task.output');
  }
  for (const [i, o] of outputs.entries()) {
    const m = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(o.valueReference?.reference ?? '');
    if (!m || !OUTPUT_TYPES.includes(m[1]!)) continue;
    const v = await reader.read(m[1]!, m[2]!);
    if (!v || v.deleted || !(await canSee(principal, v, reader))) {
      throw unprocessable(`${m[1]}/${m[2]} not found`, `Task.output[${i}].valueReference`);
    }
  }
}

/**
 * Checks one change of a referral by the caller: the Task must not be closed (an identical
 * re-send is let through, so a retried PUT is harmless), the caller must be a party, the fields
 * theirs to change, and a status change one the state machine allows them.
 */
export async function checkChange(reader: StoreReader, previous: StoredVersion, next: Task, principal: Principal): Promise<{ parties: Party[]; transition: boolean }> {
  const prev = previous.resource as Task;
  const parties = partiesOf(previous, principal);
  if (!parties.length) throw forbidden('Only the requesting and the receiving organisation may change a referral');
  if (CLOSED_STATUSES.has(prev.status)) {
    if (same(content(prev), content(next))) return { parties, transition: false };
    throw closedRefusal(prev.status);
  }
  // The transition first: a wrong party learns what it may do before any field detail.
  const transition = prev.status !== next.status;
  if (transition && !mayTransition(prev.status, next.status, parties)) throw transitionRefused(prev.status, next.status, parties);
  checkFields(prev, next, parties);
  if (transition) await checkRequirements(reader, next, principal);
  return { parties, transition };
}
