/** Opaque paging cursors: base64url JSON, validated on the way back in. */
import { badRequest } from '../fhir/outcome';

export interface Cursor {
  seq: number;
  /** Sort-key values of the last row of the previous page, when sorted. */
  keys?: (string | number | null)[];
}

/** Encodes a cursor for a paging link. */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/** Decodes a cursor; a tampered or foreign one is a 400. */
export function decodeCursor(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.seq !== 'number' || !Number.isSafeInteger(c.seq)) throw new Error('seq');
    if (c.keys !== undefined && !Array.isArray(c.keys)) throw new Error('keys');
    // Keys are bound as SQL values: anything but a string, number or null is a forgery.
    if (c.keys?.some((k) => k !== null && typeof k !== 'string' && typeof k !== 'number')) throw new Error('keys');
    return c;
  } catch {
    throw badRequest('Invalid paging cursor', '_cursor');
  }
}
