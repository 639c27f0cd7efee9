/** A seeded pseudo-random source, so a failing reliability run can be replayed (RELIABILITY_SEED). */

/** The run's seed: RELIABILITY_SEED when set, else a fixed default so CI runs are reproducible. */
export function runSeed(): number {
  const raw = process.env.RELIABILITY_SEED;
  return raw && /^\d+$/.test(raw) ? Number(raw) : 20240609;
}

/** mulberry32: small, fast, good enough to pick timings and operations (not for secrets). */
export function prng(seed: number): { next(): number; int(lo: number, hi: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
  };
}

/** A whole number from the environment, with a default and a lower bound. */
export function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new Error(`${name} must be a whole number ≥ ${min}, got "${raw}"`);
  return Number(raw);
}
