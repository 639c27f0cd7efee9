/**
 * The referral state machine as a table: every (party, from, to) triple of the R4 Task statuses
 * is checked against the transitions issue #6 allows, so an added or missing edge fails here.
 */
import type { Task } from '@medplum/fhirtypes';
import { type Party, type TaskStatus, allTransitions, allowedTransitions, mayTransition, partiesFor } from '../../src/referrals/state-machine';

const STATUSES: TaskStatus[] = ['draft', 'requested', 'received', 'accepted', 'rejected', 'ready', 'cancelled', 'in-progress', 'on-hold', 'failed', 'completed', 'entered-in-error'];

/** The transitions issue #6 describes, written out by hand. */
const EXPECTED: Record<Party, Partial<Record<TaskStatus, TaskStatus[]>>> = {
  requester: {
    draft: ['requested', 'cancelled'],
    requested: ['cancelled'],
    received: ['cancelled'],
    accepted: ['cancelled'],
    'in-progress': ['cancelled'],
    'on-hold': ['cancelled'],
  },
  owner: {
    requested: ['received', 'accepted', 'rejected'],
    received: ['accepted', 'rejected'],
    accepted: ['in-progress', 'on-hold', 'completed', 'failed'],
    'in-progress': ['on-hold', 'completed', 'failed'],
    'on-hold': ['in-progress', 'completed', 'failed'],
  },
};

describe('every transition of every party', () => {
  for (const party of ['requester', 'owner'] as const) {
    for (const from of STATUSES) {
      for (const to of STATUSES) {
        const allowed = EXPECTED[party][from]?.includes(to) ?? false;
        test(`${party}: ${from} → ${to} is ${allowed ? 'allowed' : 'refused'}`, () => {
          expect(mayTransition(from, to, [party])).toBe(allowed);
        });
      }
    }
  }
});

test('the machine has exactly the expected edges', () => {
  const count = Object.values(EXPECTED).flatMap((m) => Object.values(m).flat()).length;
  expect(allTransitions()).toHaveLength(count);
});

test('an organisation that is both parties (an internal referral) gets the union', () => {
  expect(allowedTransitions('requested', ['requester', 'owner']).sort()).toEqual(['accepted', 'cancelled', 'received', 'rejected']);
  expect(mayTransition('draft', 'accepted', ['requester', 'owner'])).toBe(false);
});

test('closed statuses have no way out for anyone', () => {
  for (const from of ['completed', 'cancelled', 'rejected', 'failed', 'entered-in-error'] as TaskStatus[]) {
    expect(allowedTransitions(from, ['requester', 'owner'])).toEqual([]);
  }
});

test('partiesFor names who may make a transition, for error messages', () => {
  expect(partiesFor('requested', 'accepted')).toEqual(['owner']);
  expect(partiesFor('accepted', 'cancelled')).toEqual(['requester']);
  expect(partiesFor('completed', 'accepted')).toEqual([]);
});

// Type check: the status type is the R4 one.
const _status: TaskStatus = 'requested' satisfies Task['status'];
void _status;
