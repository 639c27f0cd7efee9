/**
 * Seeded randomness and ids for the synthetic programme. Each client draws from its own stream,
 * seeded from (seed, client number), so client k is the same whatever the total number of
 * clients; ids and client codes come from a hash of (seed, client, counter), not the stream, so
 * they never collide even when two streams happen to share a 32-bit state.
 */
import { createHash } from 'node:crypto';
import { normalizeClientCode } from '../privacy/client-code';

/** mulberry32 (Tommy Ettinger, public domain): 32-bit state, fast, good enough for test data. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  /** Picks by relative weight. */
  weighted<T>(xs: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of xs) total += w;
    let x = this.next() * total;
    for (const [v, w] of xs) if ((x -= w) < 0) return v;
    return xs[xs.length - 1]![0];
  }
}

/** 32 bits of a SHA-256 of the parts: stream seeds and id material. */
function digest(parts: (string | number)[]): Buffer {
  return createHash('sha256').update(parts.join('\u0000')).digest();
}

/** The stream of client `k` under `seed`. */
export function clientRng(seed: number, k: number): Rng {
  return new Rng(digest(['stream', seed, k]).readUInt32LE(0));
}

/** A version-4-shaped UUID, reproducible from (seed, client, n): the shape the server assigns. */
export function seededUuid(seed: number, client: number, n: number): string {
  const b = digest(['id', seed, client, n]);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A client code in the server's format (src/privacy/client-code.ts), reproducible from
 * (seed, client, attempt). The check symbol is found by asking the server's own parser which of
 * the 32 candidates it accepts, so the format is defined in one place only.
 */
export function seededClientCode(seed: number, client: number, attempt = 0): string {
  const b = digest(['code', seed, client, attempt]);
  const payload = Array.from({ length: 10 }, (_, i) => ALPHABET[b[i]! & 31]).join('');
  for (const check of ALPHABET) {
    const s = payload + check;
    const code = normalizeClientCode(`${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`);
    if (code) return code;
  }
  throw new Error('no check symbol fits: the client-code format changed');
}
