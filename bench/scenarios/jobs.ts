/**
 * The heavy operations, where one request is the unit of work and throughput is not the question:
 * every indicator at once (`GET /reports/indicators`), each `Measure/{id}/$evaluate-measure`, and a
 * bulk `$export` from kick-off to the finished manifest (resources/s).
 */
import type { Measurement } from '../load';
import { percentile, runSequential } from '../load';
import type { Sample } from '../dataset';
import { type Target, log } from '../server';
import { authHeaders } from './common';

/** Repeats of the all-indicators request (the median is reported)… */
const INDICATOR_RUNS = 3;
/** …unless one run takes longer than this: at 100,000 clients one run may take minutes. */
const REPEAT_BELOW_MS = 20_000;
/** $evaluate-measure stops starting new measures after this long (the rest are listed as skipped). */
const MEASURE_BUDGET_MS = 120_000;
const EXPORT_POLL_MS = 200;
const EXPORT_TIMEOUT_MS = 30 * 60_000;

type Partial = Omit<Measurement, 'peakRssKb'>;

interface Outcomes {
  non2xx: number;
  statusCodes: Record<string, number>;
  firstFailure?: string;
}

function fromLatencies(name: string, shape: string, kind: Measurement['kind'], target: Target, latencies: number[], outcomes: Outcomes, note: string): Partial {
  const sorted = [...latencies].sort((a, b) => a - b);
  if (outcomes.firstFailure) log(`${name}: ${outcomes.firstFailure}`);
  return {
    name, shape, kind, target: target.name, medianMs: percentile(sorted, 0.5), p95Ms: percentile(sorted, 0.95),
    samples: sorted.length, non2xx: outcomes.non2xx, errors: 0, statusCodes: outcomes.statusCodes,
    note: outcomes.firstFailure ? `${note}; first failure: ${outcomes.firstFailure.slice(0, 160).replace(/[|\n]/g, ' ')}` : note,
  };
}

function merge(a: Outcomes, b: Outcomes): Outcomes {
  const statusCodes = { ...a.statusCodes };
  for (const [k, v] of Object.entries(b.statusCodes)) statusCodes[k] = (statusCodes[k] ?? 0) + v;
  const firstFailure = a.firstFailure ?? b.firstFailure;
  return { non2xx: a.non2xx + b.non2xx, statusCodes, ...(firstFailure ? { firstFailure } : {}) };
}

/** Whether the reporting module is present in this build (it came after the first bench). */
export async function hasReporting(target: Target): Promise<boolean> {
  const res = await fetch(`${target.base}/fhir/Measure?_count=1`, { headers: authHeaders(['reporting'], 'ministry') });
  await res.arrayBuffer();
  return res.status === 200;
}

/** `GET /reports/indicators` for the whole programme as the ministry (suppression on), timed. */
export async function indicators(target: Target, sample: Sample): Promise<Partial> {
  const headers = authHeaders(['reporting'], 'ministry');
  const path = `/reports/indicators?periodStart=${sample.periodStart}&periodEnd=${sample.periodEnd}`;
  const first = await runSequential(target, headers, [{ path }]);
  const latencies = [...first.latencies];
  let outcomes: Outcomes = first;
  if (latencies.length && latencies[0]! < REPEAT_BELOW_MS) {
    const more = await runSequential(target, headers, Array.from({ length: INDICATOR_RUNS - 1 }, () => ({ path })));
    latencies.push(...more.latencies);
    outcomes = merge(first, more);
  }
  const rows = first.bodies[0] ? ((JSON.parse(first.bodies[0]) as { rows?: unknown[] }).rows?.length ?? 0) : 0;
  return fromLatencies('all indicators (GET /reports/indicators)', `GET ${path.replace(/\?.*/, '')}?periodStart=…&periodEnd=… (whole programme, ministry)`, 'sequential', target, latencies, outcomes,
    `${latencies.length} run(s), ${rows} extract rows; median = time for every indicator`);
}

/** Each Measure's `$evaluate-measure` once, one after another; reports per-measure latency and the sum. */
export async function evaluateMeasures(target: Target, sample: Sample): Promise<Partial> {
  const headers = authHeaders(['reporting'], 'ministry');
  const res = await fetch(`${target.base}/fhir/Measure?_count=100&_elements=id`, { headers });
  const bundle = (await res.json()) as { entry?: { resource?: { id?: string } }[] };
  const ids = (bundle.entry ?? []).map((e) => e.resource?.id).filter((id): id is string => !!id);
  if (!ids.length) throw new Error(`no Measure resources to evaluate (GET /fhir/Measure gave ${res.status})`);
  const latencies: number[] = [];
  let outcomes: Outcomes = { non2xx: 0, statusCodes: {} };
  let total = 0;
  let tried = 0;
  const started = performance.now();
  for (const id of ids) {
    if (performance.now() - started > MEASURE_BUDGET_MS) break;
    const one = await runSequential(target, headers, [{ path: `/fhir/Measure/${id}/$evaluate-measure?periodStart=${sample.periodStart}&periodEnd=${sample.periodEnd}` }]);
    tried++;
    latencies.push(...one.latencies);
    total += one.latencies[0] ?? 0;
    outcomes = merge(outcomes, one);
  }
  const skipped = ids.length - tried;
  return fromLatencies('$evaluate-measure, each Measure', 'GET /fhir/Measure/{id}/$evaluate-measure?periodStart=…&periodEnd=… (whole programme)', 'sequential', target, latencies, outcomes,
    `${latencies.length} of ${ids.length} measures answered in ${(total / 1000).toFixed(2)} s${skipped ? ` (${skipped} more skipped: ${MEASURE_BUDGET_MS / 1000} s budget)` : ''}`);
}

/** Kicks off `$export` as the clinician, polls the status until the manifest is there, counts resources/s. */
export async function bulkExport(target: Target, sample: Sample): Promise<Partial> {
  const headers = authHeaders(['clinician'], sample.org, 'bench-exporter');
  const t0 = performance.now();
  const kick = await fetch(`${target.base}/fhir/$export`, { headers: { ...headers, prefer: 'respond-async' } });
  const kickText = await kick.text();
  const location = kick.headers.get('content-location');
  if (kick.status !== 202 || !location) throw new Error(`$export kick-off gave ${kick.status}\n${kickText.slice(0, 600)}`);
  // Content-Location carries the configured host; the bench talks to the loopback address it started.
  const status = `${target.base}${new URL(location).pathname}`;
  const deadline = Date.now() + EXPORT_TIMEOUT_MS;
  let polls = 0;
  for (;;) {
    const res = await fetch(status, { headers });
    const text = await res.text();
    polls++;
    if (res.status === 200) {
      const seconds = (performance.now() - t0) / 1000;
      const manifest = JSON.parse(text) as { output?: { type: string; count?: number }[] };
      const resources = (manifest.output ?? []).reduce((sum, o) => sum + (o.count ?? 0), 0);
      const del = await fetch(status, { method: 'DELETE', headers });
      await del.arrayBuffer();
      log(`$export: ${resources} resources in ${seconds.toFixed(1)} s (${polls} status polls)`);
      return {
        name: '$export (kick-off → manifest)', shape: `GET /fhir/$export (clinician of ${sample.org}, identified, every visible type), poll status`, kind: 'job', target: target.name,
        resourcesPerSec: resources / seconds, medianMs: seconds * 1000, p95Ms: NaN, samples: 1, non2xx: 0, errors: 0, statusCodes: {},
        note: `${resources} resources in ${seconds.toFixed(1)} s`,
      };
    }
    if (res.status !== 202) throw new Error(`$export status gave ${res.status}\n${text.slice(0, 600)}`);
    if (Date.now() > deadline) throw new Error(`$export did not finish within ${EXPORT_TIMEOUT_MS / 60_000} min`);
    await new Promise((r) => setTimeout(r, EXPORT_POLL_MS));
  }
}
