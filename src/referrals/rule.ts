/**
 * The referral write rule: every write of a referral Task (REST, Bundle entry, patch) passes
 * through it inside its unit of work. Tasks that are not referrals (code ≠ fulfill) are left
 * alone. docs/referrals.md describes the behaviour as a whole.
 */
import type { Task } from '@medplum/fhirtypes';
import type { WriteRule } from '../fhir/rules';
import { invalid, unprocessable } from '../fhir/outcome';
import { checkChange, partiesOf } from './change-checks';
import { checkConsent, checkFocus, completeRequester, ownerOrgOf, patientIdOf } from './create-checks';
import { applyDeadline } from './deadline';
import { createRefused, deleteRefused } from './refusals';
import { CLOSED_STATUSES, CREATE_STATUSES } from './state-machine';
import { isReferral } from './task';

function withDeadline(task: Task): Task {
  const r = applyDeadline(task);
  if (!r.ok) throw invalid(r.issues, 422);
  return r.task;
}

/** State machine, parties, consent and deadline of referral Tasks (issue #6). */
export const referralRule: WriteRule = {
  name: 'referrals',
  types: ['Task'],
  async before(_ctx, tx, event) {
    const next = event.resource as Task | undefined;
    const previous = event.previous;
    const prev = previous?.resource as Task | undefined;
    if (!isReferral(next) && !isReferral(prev)) return;
    const now = new Date().toISOString();

    if (event.action === 'delete') {
      if (!previous || !prev) return;
      const parties = partiesOf(previous, event.principal);
      if (prev.status !== 'draft' || !parties.includes('requester')) throw deleteRefused(prev.status);
      return;
    }
    if (!next) return;
    if (!isReferral(next)) throw unprocessable('Task.code cannot change on a referral; cancel it and make a new one', 'Task.code');

    if (!previous || !prev) {
      // A new referral, made by the requesting side.
      if (!CREATE_STATUSES.includes(next.status)) throw createRefused(next.status);
      if (next.intent !== 'order') throw unprocessable('A referral Task has intent order', 'Task.intent');
      const patientId = patientIdOf(next);
      const ownerOrg = ownerOrgOf(next);
      const task = withDeadline(completeRequester({ ...next, authoredOn: next.authoredOn ?? now, lastModified: now }, event.principal));
      await checkFocus(tx, task, patientId, event.principal);
      if (task.status === 'requested') await checkConsent(tx, patientId, ownerOrg, event.principal.org);
      return task;
    }

    const { transition } = await checkChange(tx, previous, next, event.principal);
    // A closed referral only gets here re-sent unchanged: store it as sent.
    if (CLOSED_STATUSES.has(prev.status)) return;
    const task = withDeadline({ ...next, lastModified: now });
    if (transition && (task.status === 'requested' || task.status === 'accepted')) {
      // Sending a draft, and accepting (which enrols the client at the owner): the consent has to
      // hold now. A client who withdrew it after the referral was sent is not enrolled anyway.
      await checkConsent(tx, patientIdOf(task), ownerOrgOf(task), previous.custodian ?? event.principal.org);
    }
    return task;
  },
  async after(_ctx, tx, event) {
    // Accepting a referral makes the client a client of the receiving organisation: it can now
    // record the care it gives (the "output" that closes the loop). Declining does not.
    const task = event.resource as Task | undefined;
    const prev = event.previous?.resource as Task | undefined;
    if (!isReferral(task) || task!.status !== 'accepted' || prev?.status === 'accepted') return;
    const patientId = patientIdOf(task!);
    const ownerOrg = ownerOrgOf(task!);
    if (patientId && ownerOrg && ownerOrg === event.principal.org) await tx.enrol(patientId, ownerOrg);
  },
};
