/** A seeded pseudo-random source, so a failing reliability run can be replayed (RELIABILITY_SEED). */
import { Rng } from '../../../src/seed/prng';

/** The run's seed: RELIABILITY_SEED when set, else a fixed default so CI runs are reproducible. */
export function runSeed(): number {
  const raw = process.env.RELIABILITY_SEED;
  return raw && /^\d+$/.test(raw) ? Number(raw) : 20240609;
}

/** The seed generator's mulberry32 (src/seed/prng.ts): small, fast, good enough to pick timings and operations (not for secrets). */
export function prng(seed: number): { next(): number; int(lo: number, hi: number): number; pick<T>(xs: readonly T[]): T } {
  return new Rng(seed);
}

/** A whole number from the environment, with a default and a lower bound. */
export function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new Error(`${name} must be a whole number ≥ ${min}, got "${raw}"`);
  return Number(raw);
}
