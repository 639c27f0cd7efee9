/**
 * The audit hash chain: each link's hash is SHA-256 over the previous hash and the event's stored
 * JSON, so changing or removing any event (or the last one, through the recorded head) shows.
 */
import { createHash } from 'node:crypto';
import type { AuditLink } from '../store/port';

/** The hash before the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** The hash of one link. */
export function linkHash(prevHash: string, content: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

export interface ChainProblem {
  seq: number;
  eventId?: string;
  problem: 'content changed' | 'event missing' | 'link missing' | 'chain broken' | 'head mismatch';
}

/** Checks links in order, continuing from `prev` (the previous link's seq and hash). */
export function verifyLinks(links: AuditLink[], prev: { seq: number; hash: string }): { problems: ChainProblem[]; last: { seq: number; hash: string } } {
  const problems: ChainProblem[] = [];
  let last = prev;
  for (const link of links) {
    if (link.seq !== last.seq + 1) problems.push({ seq: last.seq + 1, problem: 'link missing' });
    if (link.prevHash !== last.hash) problems.push({ seq: link.seq, eventId: link.eventId, problem: 'chain broken' });
    if (link.content === undefined) problems.push({ seq: link.seq, eventId: link.eventId, problem: 'event missing' });
    else if (linkHash(link.prevHash, link.content) !== link.hash) problems.push({ seq: link.seq, eventId: link.eventId, problem: 'content changed' });
    last = { seq: link.seq, hash: link.hash };
  }
  return { problems, last };
}
