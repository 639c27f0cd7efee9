/**
 * The markdown report of a run: one table (every scenario as req/s, resources/s, median and p95,
 * ratios to both baselines, the server's peak RSS during it) and the issue #9 targets, each marked
 * reached or not with the figure that decides it.
 */
import { cpus } from 'node:os';
import type { Measurement } from './load';
import type { SeedInfo } from './dataset';
import type { BenchOptions } from './options';

export const EXPRESS = 'express hello';
export const NODE_HTTP = 'node:http hello';

/** Everything the header of the report states about the run. */
export interface RunFacts {
  started: Date;
  loadAverage: string;
  options: BenchOptions;
  seed: SeedInfo;
  /** Resources in the working copy when the server started. */
  resourcesAtStart: number;
  /** Highest RSS of the linkcare process over the whole run, start-up included, kB. */
  linkcarePeakKb: number;
  command: string;
}

/** One target of issue #9: what it asks and whether this run reached it. */
export interface TargetCheck {
  target: string;
  figure: string;
  reached: boolean | undefined;
}

const fixed = (value: number | undefined, digits: number): string => (value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : '—');

function ratio(value: number | undefined, baseline: number | undefined): string {
  if (value === undefined || baseline === undefined) return '—';
  const r = value / baseline;
  return Number.isFinite(r) ? `${r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×` : '—';
}

/** A scenario's server CPU per request, with express hello's CPU per request divided by it. */
function cpuCell(r: Measurement, expressCpu: number | undefined): string {
  if (r.cpuUsPerRequest === undefined) return '—';
  return `${r.cpuUsPerRequest.toFixed(0)}${expressCpu !== undefined ? ` (${ratio(expressCpu, r.cpuUsPerRequest)})` : ''}`;
}

const find = (results: Measurement[], name: string): Measurement | undefined => results.find((r) => r.name === name);

/** Checks the issue #9 targets against the measurements (undefined = not measured in this run). */
export function checkTargets(results: Measurement[], facts: RunFacts): TargetCheck[] {
  const express = find(results, EXPRESS)?.reqPerSec;
  const read = find(results, 'read Patient by id');
  const tx = results.find((r) => r.name.startsWith('transaction of'));
  // The latency target is judged on the one-connection rows (a request's own time) when they ran;
  // the 10-connection rows are listed with them (their p95 is mostly queueing).
  const allTokens = results.filter((r) => r.name.startsWith('token search'));
  const single = allTokens.filter((r) => r.connections === 1);
  const tokens = single.length ? single : allTokens;
  const indicators = results.find((r) => r.name.startsWith('all indicators'));
  const exp = results.find((r) => r.name.startsWith('$export'));
  const million = `${(facts.resourcesAtStart / 1e6).toFixed(2)}M resources`;
  const readRatio = read?.reqPerSec !== undefined && express ? read.reqPerSec / express : undefined;
  // A baseline slowed by another job inflates the req/s ratio; the CPU ratio does not move with it,
  // so the target counts as reached only when both say so.
  const expressCpu = find(results, EXPRESS)?.cpuUsPerRequest;
  const readCpuRatio = read?.cpuUsPerRequest !== undefined && expressCpu !== undefined ? expressCpu / read.cpuUsPerRequest : undefined;
  const readFigure = readRatio === undefined ? 'not measured' : `${readRatio.toFixed(2)}×${readCpuRatio === undefined ? '' : ` (CPU per request: ${readCpuRatio.toFixed(2)}×)`}`;
  // A search that failed outright has no p95; it cannot count as reached.
  const worstToken = tokens.length ? Math.max(...tokens.map((t) => (t.samples ? t.p95Ms : Infinity))) : undefined;
  return [
    { target: 'read by id ≥ 0.5 × bare express', figure: readFigure, reached: readRatio === undefined ? undefined : readRatio >= 0.5 && (readCpuRatio === undefined || readCpuRatio >= 0.5) },
    { target: 'ingest through transactions ≥ 5,000 resources/s', figure: tx?.resourcesPerSec === undefined ? 'not measured' : `${fixed(tx.resourcesPerSec, 0)} resources/s`, reached: tx?.resourcesPerSec === undefined ? undefined : tx.resourcesPerSec >= 5000 },
    {
      target: 'token search p95 < 20 ms at 1M resources',
      figure: worstToken === undefined ? 'not measured' : `${allTokens.map((t) => `${t.name.replace('token search: ', '')} ${t.samples ? `${fixed(t.p95Ms, 1)} ms` : 'failed'}`).join('; ')} (at ${million}; judged on ${single.length ? 'the 1-connection rows' : 'these'})`,
      reached: worstToken === undefined ? undefined : worstToken < 20 && facts.resourcesAtStart >= 1e6 ? true : worstToken >= 20 ? false : undefined,
    },
    {
      target: 'all indicators over 100,000 clients < 10 s',
      figure: indicators ? `${fixed(indicators.medianMs / 1000, 2)} s over ${facts.seed.clients.toLocaleString('en')} clients` : 'not measured',
      reached: indicators ? (indicators.medianMs >= 10_000 ? false : facts.seed.clients >= 100_000 ? true : undefined) : undefined,
    },
    { target: 'export ≥ 20,000 resources/s', figure: exp?.resourcesPerSec === undefined ? 'not measured' : `${fixed(exp.resourcesPerSec, 0)} resources/s (${exp.note})`, reached: exp?.resourcesPerSec === undefined ? undefined : exp.resourcesPerSec >= 20_000 },
    { target: 'RSS < 300 MB throughout', figure: `${fixed(facts.linkcarePeakKb / 1024, 0)} MB peak`, reached: facts.linkcarePeakKb < 300 * 1024 },
  ];
}

const verdict = (c: TargetCheck): string => (c.reached === undefined ? 'not decided by this run' : c.reached ? '**reached**' : '**not reached**');

/** Renders the report (bench/results/latest.md). */
export function renderReport(results: Measurement[], facts: RunFacts): string {
  const express = find(results, EXPRESS)?.reqPerSec;
  const node = find(results, NODE_HTTP)?.reqPerSec;
  const expressCpu = find(results, EXPRESS)?.cpuUsPerRequest;
  const o = facts.options;
  const s = facts.seed;
  const lines = [
    '# linkcare benchmark',
    '',
    `${facts.started.toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'} · load average at start ${facts.loadAverage} · ` +
      `${o.connections} connections · ${o.seconds} s per load scenario (+${o.warmup} s warm-up)`,
    '',
    `Command: \`${facts.command}\``,
    '',
    `Data set: ${s.clients.toLocaleString('en')} clients from the seed generator (seed ${s.seed}), ${s.resources.toLocaleString('en')} resources ` +
      `(${facts.resourcesAtStart.toLocaleString('en')} current resources in the store at start, audit events included); built with \`${s.command}\` ` +
      `in ${s.seconds.toFixed(0)} s = ${s.resourcesPerSecond.toLocaleString('en')} resources/s. linkcare runs with NODE_ENV=production, bearer ` +
      `authentication, the access policy and the audit trail on; requests are made as a clinician of ${o.org} unless stated.`,
    '',
    '| scenario | req/s | resources/s | median ms | p95 ms | ratio vs express hello | ratio vs node:http hello | server CPU µs/request (express\'s ÷ this) | server peak RSS MB | non-2xx / errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const flag = r.non2xx > 0 || r.errors > 0 ? ' ⚠' : '';
    lines.push(
      `| ${r.name}${flag} | ${fixed(r.reqPerSec, 0)} | ${fixed(r.resourcesPerSec, 0)} | ${fixed(r.medianMs, 2)} | ${fixed(r.p95Ms, 2)} | ` +
        `${r.connections ? '— | — |' : `${ratio(r.reqPerSec, express)} | ${ratio(r.reqPerSec, node)} |`} ${cpuCell(r, expressCpu)} | ` +
        `${fixed(r.peakRssKb / 1024, 0)} | ${r.non2xx} / ${r.errors} |`,
    );
  }
  lines.push('', '| scenario | one request | notes |', '|---|---|---|');
  for (const r of results) lines.push(`| ${r.name} | \`${r.shape}\` | ${r.note ?? (r.kind === 'load' ? `${r.samples} timed responses` : '')} |`);
  lines.push(
    '',
    `linkcare peak RSS over the whole run (start-up and every scenario): ${fixed(facts.linkcarePeakKb / 1024, 1)} MB.`,
    '',
    '## Targets (issue #9)',
    '',
    '| target | this run | verdict |',
    '|---|---|---|',
    ...checkTargets(results, facts).map((c) => `| ${c.target} | ${c.figure} | ${verdict(c)} |`),
    '',
    'req/s counts 2xx responses only; ratios divide it by the baseline\'s req/s from this run. Latencies are exact percentiles over every ' +
      '2xx response of the timed run (sequential rows: one connection, one request at a time; the $export row\'s median is the whole job). ' +
      '"server peak RSS" is the high-water mark of the serving process during that scenario (VmHWM, reset before each scenario). ' +
      '"server CPU" is the serving process\'s user + system time over the timed run (/proc/<pid>/stat) divided by its 2xx responses; ' +
      'its ratio (express hello\'s CPU per request ÷ the scenario\'s) moves less than req/s when other jobs share the machine.',
  );
  for (const r of results.filter((x) => x.non2xx > 0 || x.errors > 0)) {
    const codes = Object.entries(r.statusCodes).map(([code, n]) => `${code}: ${n}`).join(', ');
    lines.push('', `⚠ ${r.name}: ${r.non2xx} non-2xx responses, ${r.errors} connection errors/timeouts (status codes ${codes})`);
  }
  return `${lines.join('\n')}\n`;
}
