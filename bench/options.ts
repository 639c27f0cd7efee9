/**
 * Command-line flags of `npm run bench -- …` (environment variables of the first version still
 * work for the timing flags). See bench/README.md for what each one is for.
 */

export interface BenchOptions {
  /** Clients in the seeded data set (about 14.6 resources each). */
  clients: number;
  /** Seed of the deterministic generator. */
  seed: number;
  /** Timed seconds per load scenario. */
  seconds: number;
  /** Untimed warm-up seconds before each load scenario. */
  warmup: number;
  /** Concurrent connections of the load generator. */
  connections: number;
  /** Instead of the full run: profile the server under read-by-id and the transaction. */
  profile: boolean;
  /** Run only the scenarios whose name contains one of these words (baselines always run). */
  only: string[];
  /** Measure against the cached data set itself instead of a fresh copy (quicker, but it drifts). */
  inPlace: boolean;
  /** Organisation of the clinician the scenarios act as (clinic-1, or e.g. community-1). */
  org: string;
  /** Run the servers from TypeScript through tsx instead of compiling them first. */
  source: boolean;
}

/** The value after `--name` in argv, if given (a following `--flag` is not a value). */
export function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const value = argv[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
  return value;
}

function whole(argv: string[], name: string, env: string, fallback: number, min: number): number {
  const raw = flag(argv, name) ?? process.env[env];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got "${raw}"`);
  return Number(raw);
}

const KNOWN = new Set(['clients', 'seed', 'seconds', 'warmup', 'connections', 'only', 'profile', 'in-place', 'org', 'source']);

/** Parses and checks the flags; unknown flags are refused rather than silently ignored. */
export function parseOptions(argv: string[]): BenchOptions {
  for (const arg of argv) {
    if (arg.startsWith('--') && !KNOWN.has(arg.slice(2))) throw new Error(`unknown flag ${arg} (known: ${[...KNOWN].map((k) => `--${k}`).join(', ')})`);
  }
  return {
    clients: whole(argv, 'clients', 'BENCH_CLIENTS', 100_000, 10),
    seed: whole(argv, 'seed', 'BENCH_SEED', 1, 0),
    seconds: whole(argv, 'seconds', 'BENCH_SECONDS', 10, 1),
    warmup: whole(argv, 'warmup', 'BENCH_WARMUP_SECONDS', 2, 0),
    connections: whole(argv, 'connections', 'BENCH_CONNECTIONS', 10, 1),
    profile: argv.includes('--profile'),
    only: (flag(argv, 'only') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
    inPlace: argv.includes('--in-place'),
    org: flag(argv, 'org') ?? 'clinic-1',
    source: argv.includes('--source'),
  };
}
