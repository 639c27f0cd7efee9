/** Helpers shared by the benchmark runner and the prototype comparisons. */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Principal } from '../../src/auth/principal';
import type { QueryPairs } from '../../src/fhir/context';
import { visibility } from '../../src/policy/access';
import { parseSearch } from '../../src/search/parse';
import type { SearchPlan } from '../../src/search/plan';
import type { SearchRegistry } from '../../src/search/registry';
import { BASE_URL } from './load';
import type { Scenario } from './scenarios';

/** `estimate` is the server's default (counts up to 1,000); `accurate` counts every match. */
export const TOTALS = ['estimate', 'accurate', 'none'] as const;
export type Total = (typeof TOTALS)[number];

/** What every real request carries: a clinician acting for one organisation (org-1 unless the scenario names another). */
export const PRINCIPAL: Principal = { sub: 'bench', org: 'org-1', roles: ['clinician'] };

/** The plan exactly as the search interaction builds it: parsed, then the caller's visibility. */
export function planFor(registry: SearchRegistry, s: Scenario, pairs: QueryPairs, total: Total): SearchPlan {
  const { plan, ignored } = parseSearch(registry, [s.type], [...pairs, ['_total', total]], { baseUrl: BASE_URL });
  if (ignored.length) throw new Error(`${s.name}: the parser ignored ${ignored.join(', ')}`);
  plan.visibility = visibility({ ...PRINCIPAL, org: s.org ?? PRINCIPAL.org });
  return plan;
}

export const log = (s: string) => process.stderr.write(`${s}\n`);

/** Nearest-rank percentile: a value that was actually observed. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? NaN;
}

export function summary(ms: number[]): { median: number; p95: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { median: percentile(s, 0.5), p95: percentile(s, 0.95) };
}

export const elapsedMs = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
export const fmt = (ms: number) => (ms < 0.01 ? ms.toFixed(4) : ms < 0.1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
export const int = (n: number) => Math.round(n).toLocaleString('en');
/** Table cells cannot hold a bare pipe, even inside code spans. */
export const cell = (s: string) => s.replace(/\|/g, '\\|');

/** Accepts 1e6 and 1_000_000 as well as 1000000: all are how people write a million. */
export function wholeNumber(flag: string, raw: string | undefined, min: number): number {
  if (raw === undefined) throw new Error(`${flag} needs a value`);
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be a whole number ≥ ${min}, got "${raw}"`);
  return n;
}

/**
 * Which code was measured: the commit, plus the files under src/ that differ from it. Search
 * code changes often, so a number without this cannot be compared with the next one.
 */
export function codeVersion(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: resolve(__dirname, '..', '..'), encoding: 'utf8' });
  try {
    // Porcelain lines are "XY path"; the leading status column may be a space, so no trimming first.
    const dirty = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).map((l) => l.slice(3));
    return `commit ${git('rev-parse', '--short', 'HEAD').trim()}${dirty.length ? ` with uncommitted changes to ${dirty.join(', ')}` : ', src/ unmodified'}`;
  } catch {
    return 'code version unknown (not a git checkout)';
  }
}
