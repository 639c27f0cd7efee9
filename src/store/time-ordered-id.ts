/**
 * Server-assigned ids: time-ordered UUIDs (the RFC 9562 version 7 layout: 48 bits of Unix
 * milliseconds, then random bits). New resources and AuditEvents are written in time order, so
 * their ids land at the end of every B-tree keyed by id instead of on a random page of a tree of
 * millions of rows: a create reads and dirties the same few pages as the one before it. The time
 * an id reveals is when its resource was created, which version 1's meta.lastUpdated (and an
 * AuditEvent's `recorded`) already tell whoever may read it; the remaining 62 random bits keep ids
 * unguessable.
 */
import { randomUUID } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/** A new time-ordered id (https://www.rfc-editor.org/rfc/rfc9562#section-5.7). */
export function newTimeOrderedId(now: number = Date.now()): string {
  // Within one millisecond a 12-bit counter keeps ids increasing (RFC 9562 section 6.2, method 1).
  if (now <= lastMs) {
    counter = (counter + 1) & 0xfff;
    if (counter === 0) lastMs++;
    now = lastMs;
  } else {
    lastMs = now;
    counter = 0;
  }
  // randomUUID draws from a pooled buffer: much cheaper per call than randomBytes(16). Its last
  // 16 hex digits already carry the RFC 9562 variant bits; the first 16 become time and counter.
  const random = randomUUID().replace(/-/g, '');
  const hex = `${now.toString(16).padStart(12, '0')}7${counter.toString(16).padStart(3, '0')}${random.slice(16)}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
