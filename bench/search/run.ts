/**
 * Search engine benchmark on a generated data set (default one million resources): latency of
 * typical searches through the store, with and without counting, next to a trivial SQLite call
 * measured in the same run, plus SQLite's plan for every statement. See bench/search/README.md.
 *
 *   npx tsx bench/search/run.ts [--resources N] [--seed S] [--runs R] [--warmup W] [--fresh] [--out FILE]
 */
import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { createIndexer } from '../../src/search/indexer';
import { loadSearchRegistry } from '../../src/search/registry';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { TOTALS, type Total, cell, codeVersion, elapsedMs, fmt, int, log, percentile, planFor, summary, wholeNumber } from './common';
import { type Explained, captureSql, compactSql, explainAll, renderPlan } from './explain';
import { BASE_URL, diskBytes, ensureDataset } from './load';
import { Rng } from './prng';
import { SCENARIOS, type Scenario, readSample } from './scenarios';

const ROOT = resolve(__dirname, '..', '..');

interface Options {
  resources: number;
  seed: number;
  runs: number;
  warmup: number;
  fresh: boolean;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { resources: 1_000_000, seed: 1, runs: 200, warmup: 20, fresh: false, out: resolve(ROOT, 'bench/results/search-latest.md') };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const whole = (min: number) => wholeNumber(flag, argv[++i], min);
    if (flag === '--resources') o.resources = whole(100);
    else if (flag === '--seed') o.seed = whole(0);
    else if (flag === '--runs') o.runs = whole(1);
    else if (flag === '--warmup') o.warmup = whole(0);
    else if (flag === '--fresh') o.fresh = true;
    else if (flag === '--out') {
      const file = argv[++i];
      if (!file) throw new Error('--out needs a file');
      o.out = resolve(file);
    } else throw new Error(`unknown flag ${flag}`);
  }
  return o;
}

interface Measured {
  scenario: Scenario;
  times: Record<Total, number[]>;
  totals: number[];
  matches: number[];
  included: number[];
  plans: Explained[];
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const loadStart = loadavg()[0]!;
  const startedAt = new Date();
  const code = codeVersion();
  const dataset = await ensureDataset(o.resources, o.seed, o.fresh, log);
  const size = diskBytes(dataset.file);

  const registry = loadSearchRegistry();
  const store = openSqliteStore(dataset.file, { indexer: createIndexer(registry, BASE_URL) });
  const ro = new Database(dataset.file, { readonly: true, fileMustExist: true });
  // Same cache as the store's reader, so EXPLAIN and the capture see what the timed path sees.
  ro.pragma('cache_size = -32000');
  const sample = readSample(ro);

  // The floor for one round trip into SQLite from JS on this machine, right now.
  const one = ro.prepare('SELECT 1');
  const baseline: number[] = [];
  for (let i = 0; i < Math.max(2000, o.runs); i++) {
    const t0 = process.hrtime.bigint();
    await Promise.resolve(one.get());
    if (i >= 100) baseline.push(elapsedMs(t0));
  }

  const measured: Measured[] = [];
  for (const [index, s] of SCENARIOS.entries()) {
    // One stream per scenario, so adding or reordering scenarios leaves the others' values alone.
    const values = () => new Rng(o.seed * 1000 + index);
    const m: Measured = { scenario: s, times: { estimate: [], accurate: [], none: [] }, totals: [], matches: [], included: [], plans: [] };
    const first = s.query(values(), sample);
    // The page statement is the same in both modes; explaining the union once keeps the report short.
    m.plans = explainAll(ro, TOTALS.flatMap((total) => captureSql(ro, planFor(registry, s, first, total))));

    const warm = values();
    for (let i = 0; i < o.warmup; i++) {
      const pairs = s.query(warm, sample);
      for (const total of TOTALS) await store.search(planFor(registry, s, pairs, total));
    }
    const rng = values();
    const t = Date.now();
    for (let i = 0; i < o.runs; i++) {
      const pairs = s.query(rng, sample);
      // Rotate which goes first, so no mode always finds the pages another just read.
      for (const total of TOTALS.map((_, k) => TOTALS[(k + i) % TOTALS.length]!)) {
        const plan = planFor(registry, s, pairs, total);
        const t0 = process.hrtime.bigint();
        const result = await store.search(plan);
        m.times[total].push(elapsedMs(t0));
        if (total === 'accurate') {
          m.totals.push(result.total ?? NaN);
          m.matches.push(result.matches.length);
          m.included.push(result.included.length);
        }
      }
    }
    const [e, a, n] = TOTALS.map((k) => summary(m.times[k]));
    log(`${s.name}: median ${fmt(e!.median)} / ${fmt(a!.median)} / ${fmt(n!.median)} ms (estimate / accurate / none), p95 ${fmt(e!.p95)} / ${fmt(a!.p95)} / ${fmt(n!.p95)} ms, ${((Date.now() - t) / 1000).toFixed(1)} s`);
    measured.push(m);
  }
  ro.close();
  await store.close();

  const report = render(o, { startedAt, code, loadStart, loadEnd: loadavg()[0]!, size, dataset, baseline: summary(baseline), measured });
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, report);
  process.stdout.write(report);
  log(`\nwritten to ${relative(ROOT, o.out)}`);
}

type Summary = ReturnType<typeof summary>;

interface ReportInput {
  startedAt: Date;
  code: string;
  loadStart: number;
  loadEnd: number;
  size: number;
  dataset: Awaited<ReturnType<typeof ensureDataset>>;
  baseline: { median: number; p95: number };
  measured: Measured[];
}

function range(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const med = percentile(s, 0.5);
  return s[0] === s[s.length - 1] ? int(med) : `${int(med)} (${int(s[0]!)}–${int(s[s.length - 1]!)})`;
}

/** Which of the store's statements this is, judged from its text. */
function statementKind(sql: string): string {
  if (sql.startsWith('SELECT COUNT(*) AS candidates')) return 'Candidates before visibility, up to 1,000 (probe visibility per candidate, or list it once)';
  if (sql.startsWith('SELECT COUNT(*) AS n FROM (')) return 'Count up to 1,000 (default _total=estimate)';
  if (sql.startsWith('SELECT COUNT(*)')) return 'Count (only with _total=accurate)';
  if (sql.includes('FROM param_span')) return 'Stored extent of the date parameter (for the date window)';
  if (sql.startsWith('SELECT DISTINCT') || sql.startsWith('WITH RECURSIVE')) return 'Include / revinclude';
  return 'Page';
}

function render(o: Options, r: ReportInput): string {
  const { info } = r.dataset;
  const cpu = cpus();
  const out: string[] = [
    '# linkcare search benchmark',
    '',
    `${r.startedAt.toISOString()} · Node ${process.version} · ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'} · load average ${r.loadStart.toFixed(2)} at start, ${r.loadEnd.toFixed(2)} at end`,
    '',
    `Measured: ${r.code}.`,
    '',
    `**${int(o.resources)} resources** (seed ${o.seed}): ${Object.entries(info.counts).map(([t, c]) => `${int(c)} ${t}`).join(', ')}.`,
    `Database ${(r.size / 1024 ** 2).toFixed(0)} MiB on disk (${int(r.size / o.resources)} bytes per resource).`,
    `Index build rate ${int(info.rate)} resources/s with indexing on (${info.seconds.toFixed(0)} s, ${r.dataset.built ? 'built in this run' : `built ${info.builtAt}, reused`}).`,
    `${o.runs} timed runs per scenario and _total mode after ${o.warmup} warm-up runs; values drawn from the data for every run; principal: clinician at org-1 unless the scenario names another.`,
    '',
    'Default = `_total=estimate` (the server\'s default: counted up to 1,000, left out above).',
    '',
    '| scenario | median ms | p95 ms | median ms with _total=accurate | p95 ms with _total=accurate | median ms with _total=none | p95 ms with _total=none | plan uses index? | results |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|',
    `| baseline: \`SELECT 1\` through better-sqlite3 | ${fmt(r.baseline.median)} | ${fmt(r.baseline.p95)} | ${fmt(r.baseline.median)} | ${fmt(r.baseline.p95)} | ${fmt(r.baseline.median)} | ${fmt(r.baseline.p95)} | — | — |`,
  ];
  for (const m of r.measured) {
    const [e, a, n] = TOTALS.map((k) => summary(m.times[k])) as [Summary, Summary, Summary];
    const flagged = m.plans.flatMap((p) => p.lines.filter((l) => l.flag).map((l) => `${l.detail} (${l.flag})`));
    const uses = flagged.length ? `⚠ no: ${[...new Set(flagged)].map((f) => `\`${cell(f)}\``).join('; ')}` : 'yes';
    const inc = m.included.some((x) => x > 0) ? `; included ${range(m.included)}` : '';
    out.push(
      `| ${m.scenario.name}<br>\`${cell(m.scenario.shape)}\` | ${fmt(e.median)} | ${fmt(e.p95)} | ${fmt(a.median)} | ${fmt(a.p95)} | ${fmt(n.median)} | ${fmt(n.p95)} | ${uses} | total ${range(m.totals)}; page ${range(m.matches)}${inc} |`,
    );
  }
  out.push(
    '',
    'Results: median (min–max) over the timed runs of `Bundle.total`, of the matches on the page and of the included resources.',
    'Times are `store.search(plan)` only; parsing the query and building the visibility predicate are not included.',
    '',
    '## Ratio to the SELECT 1 baseline',
    '',
    '| scenario | median ÷ SELECT 1 | p95 ÷ SELECT 1 | median with _total=accurate ÷ SELECT 1 | median with _total=none ÷ SELECT 1 |',
    '|---|---:|---:|---:|---:|',
  );
  for (const m of r.measured) {
    const ratio = (ms: number) => `${int(ms / r.baseline.median)}×`;
    const e = summary(m.times.estimate);
    out.push(`| ${m.scenario.name} | ${ratio(e.median)} | ${ratio(e.p95)} | ${ratio(summary(m.times.accurate).median)} | ${ratio(summary(m.times.none).median)} |`);
  }
  out.push('', '## Query plans', '', 'SQL captured from the store\'s own `SqliteSearch` for the first drawn value, then `EXPLAIN QUERY PLAN` with the same bound values. `<--` marks a full scan, a range that grows with the data rather than with the answer, or a sort of every match.', '');
  for (const m of r.measured) {
    out.push(`### ${m.scenario.name}`, '');
    for (const p of m.plans) {
      out.push(`${statementKind(p.sql)}:`, '', '```sql', compactSql(p.sql), '```', '```', renderPlan(p), '```', '');
    }
  }
  return `${out.join('\n')}\n`;
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
