/**
 * Ids for AuditEvents: time-ordered UUIDs (the RFC 9562 version 7 layout: 48 bits of Unix
 * milliseconds, then random bits). Events are appended in time order, so their ids land at the
 * end of every B-tree keyed by id instead of on a random page of a tree of millions of rows.
 * The time an id reveals is already in the event (`recorded`).
 */
import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/** A new AuditEvent id (https://www.rfc-editor.org/rfc/rfc9562#section-5.7). */
export function newAuditEventId(now: number = Date.now()): string {
  // Within one millisecond a 12-bit counter keeps ids increasing (RFC 9562 section 6.2, method 1).
  if (now <= lastMs) {
    counter = (counter + 1) & 0xfff;
    if (counter === 0) lastMs++;
    now = lastMs;
  } else {
    lastMs = now;
    counter = 0;
  }
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
