/**
 * Seeded randomness for the synthetic data set. Everything the generator draws comes from here,
 * so one (seed, N) pair always yields byte-identical resources and the cached database stays
 * meaningful across runs.
 */

/** splitmix32 spreads a small integer seed over all state words; sfc32 alone starts weakly correlated. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * sfc32: a 128-bit-state generator with a period far beyond the ~50 million draws a 1M-resource
 * set needs (mulberry32's 2^32 period would start repeating UUIDs at that scale).
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const mix = splitmix32(seed);
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Picks by relative weight; `weights` need not sum to 1. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let x = this.next() * total;
    for (const [item, w] of items) {
      x -= w;
      if (x < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /**
   * An RFC 4122 version-4 UUID drawn from this stream: the same shape and the same randomness
   * across the B-tree as `crypto.randomUUID()` (what the server assigns), but reproducible.
   */
  uuid(): string {
    const w = [this.u32(), this.u32(), this.u32(), this.u32()];
    w[1] = (w[1]! & 0xffff0fff) | 0x00004000;
    w[2] = (w[2]! & 0x3fffffff) | 0x80000000;
    const h = w.map((x) => (x >>> 0).toString(16).padStart(8, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}
