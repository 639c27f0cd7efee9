/**
 * The errors a referral write can get, built with the one OperationOutcome builder
 * (src/fhir/outcome.ts) so that every refusal names the element at fault.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { OperationOutcomeError, issue, outcome } from '../fhir/outcome';
import { type Party, type TaskStatus, allowedTransitions, partiesFor } from './state-machine';

function names(parties: readonly Party[]): string {
  return parties.map((p) => (p === 'owner' ? 'receiving organisation (owner)' : 'requesting organisation')).join(' and ');
}

/**
 * 409 for a transition the state machine does not allow to this caller: one error issue, then
 * one informational issue per transition the caller may make from the current status.
 */
export function transitionRefused(from: TaskStatus, to: TaskStatus, parties: readonly Party[]): OperationOutcomeError {
  const allowed = allowedTransitions(from, parties);
  const who = partiesFor(from, to);
  const hint = who.length ? ` Only the ${names(who)} may do that.` : '';
  const issues: OperationOutcomeIssue[] = [issue('business-rule', `The ${names(parties)} may not move this referral from ${from} to ${to}.${hint}`, 'Task.status')];
  if (allowed.length) for (const s of allowed) issues.push(issue('informational', `Allowed transition: ${from} → ${s}`, 'Task.status', 'information'));
  else issues.push(issue('informational', `No transition from ${from} is open to you`, 'Task.status', 'information'));
  return new OperationOutcomeError(409, outcome(...issues));
}

/** 409 for any change to a closed referral. */
export function closedRefusal(from: TaskStatus): OperationOutcomeError {
  return new OperationOutcomeError(409, outcome(
    issue('business-rule', `This referral is ${from}: a closed referral cannot change (make a new referral instead)`, 'Task.status'),
    issue('informational', `No transition from ${from} is open to anyone`, 'Task.status', 'information'),
  ));
}

/** 409 for a create in a status other than draft or requested. */
export function createRefused(status: TaskStatus): OperationOutcomeError {
  return new OperationOutcomeError(409, outcome(
    issue('business-rule', `A referral is created as draft or requested, not ${status}`, 'Task.status'),
    issue('informational', 'Allowed on create: draft', 'Task.status', 'information'),
    issue('informational', 'Allowed on create: requested', 'Task.status', 'information'),
  ));
}

/** 409 for deleting a referral that was sent: it is cancelled instead, so the loop stays visible. */
export function deleteRefused(from: TaskStatus): OperationOutcomeError {
  return new OperationOutcomeError(409, outcome(
    issue('business-rule', `A ${from} referral cannot be deleted; the requesting organisation cancels it instead (status cancelled). Only a draft can be deleted, by its requester.`, 'Task.status'),
  ));
}
