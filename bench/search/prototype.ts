/**
 * Measures proposed search changes on a scratch copy of the benchmark database (never the cached
 * one): SQL shapes through bench/search/rewrites.ts, then statistics (ANALYZE) and covering
 * indexes. Variants run in order on one copy and each is compared with the current code for the
 * same drawn values, so a faster variant that returned different results would show.
 *
 *   npx tsx bench/search/prototype.ts [--resources N] [--seed S] [--runs R] [--warmup W] [--only B,G,…]
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SearchResult } from '../../src/store/port';
import { loadSearchRegistry } from '../../src/search/registry';
import { SqliteSearch } from '../../src/store/sqlite/search-sql';
import { type Total, cell, codeVersion, elapsedMs, fmt, int, log, planFor, summary, wholeNumber } from './common';
import { compactSql, explainAll, renderPlan } from './explain';
import { dataFile, ensureDataset } from './load';
import { Rng } from './prng';
import {
  type Rewrite, RewritingStatements, cappedCount, chain, chainInsideOut, dateWindow, driveFromIndex, dropKnownType, enrolledExists, streamPage, visibilityForType,
} from './rewrites';
import { SCENARIOS, readSample } from './scenarios';

/** The modes this comparison was designed around (before `estimate` became the default). */
const MODES: Total[] = ['accurate', 'none'];

interface Variant {
  key: string;
  name: string;
  /** Schema or statistics change applied to the scratch copy before this variant (and kept). */
  setup?: { what: string; sql: string[] };
  rewrite: Rewrite[];
  /** Totals above this are left out by design, so they are compared as "more than the cap". */
  totalCap?: number;
}

const CAP = 1000;

const COVERING = [
  'CREATE INDEX proto_token_cover ON idx_token (param, code, system, rid)',
  'CREATE INDEX proto_ref_cover ON idx_ref (param, target_id, target_type, rid)',
  'CREATE INDEX proto_date_cover ON idx_date (param, low, high, rid)',
];

function variants(span: Map<string, number>): Variant[] {
  const narrowed = [driveFromIndex, enrolledExists, visibilityForType, dropKnownType];
  const all = [...narrowed, dateWindow(span), chainInsideOut];
  return [
    { key: 'A', name: 'current code', rewrite: [] },
    { key: 'B', name: '`+r.type` with an index predicate, enrolment as EXISTS, visibility narrowed to the type with no literal type test left', rewrite: narrowed },
    { key: 'C', name: 'B + ge/lt on one date parameter as one bounded range', rewrite: [...narrowed, dateWindow(span)] },
    { key: 'D', name: 'C + chains resolved inside-out', rewrite: all },
    { key: 'E', name: 'current code after ANALYZE', setup: { what: 'ANALYZE', sql: ['ANALYZE'] }, rewrite: [] },
    { key: 'F', name: 'D after ANALYZE', rewrite: all },
    { key: 'G', name: 'F + covering (…, rid) indexes', setup: { what: 'covering indexes, then ANALYZE', sql: [...COVERING, 'ANALYZE'] }, rewrite: all },
    { key: 'H', name: 'G + a single equality predicate streams the page from its covering index', rewrite: [...all, streamPage] },
    { key: 'I', name: `H + the count stops at ${CAP.toLocaleString('en')} (Bundle.total left out above; only when no exact total is asked for)`, rewrite: [...all, streamPage, cappedCount(CAP)], totalCap: CAP },
  ];
}

interface Cell {
  times: Record<Total, number[]>;
  mismatches: number;
  flags: string[];
}

/** What a search returned, to compare variants on: the total, the page and the includes. */
function signature(r: SearchResult, cap = Infinity): string {
  const total = r.total === undefined ? null : r.total > cap ? `>${cap}` : r.total;
  return JSON.stringify([total, r.matches.map((m) => m.id), r.included.map((m) => m.id).sort(), r.nextCursor ?? null]);
}

function parse(argv: string[]) {
  const o = { resources: 1_000_000, seed: 1, runs: 60, warmup: 5, only: undefined as Set<string> | undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--resources') o.resources = wholeNumber(flag, argv[++i], 100);
    else if (flag === '--seed') o.seed = wholeNumber(flag, argv[++i], 0);
    else if (flag === '--runs') o.runs = wholeNumber(flag, argv[++i], 1);
    else if (flag === '--warmup') o.warmup = wholeNumber(flag, argv[++i], 0);
    // A is the reference every other variant is checked against, so it always runs.
    else if (flag === '--only') o.only = new Set(['A', ...(argv[++i] ?? '').split(',')]);
    else throw new Error(`unknown flag ${flag}`);
  }
  return o;
}

/** Bytes per table and index, from SQLite's own page accounting. */
function objectSizes(db: Database.Database): Map<string, number> {
  const rows = db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as { name: string; bytes: number }[];
  return new Map(rows.map((r) => [r.name, r.bytes]));
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const dataset = await ensureDataset(o.resources, o.seed, false, log);
  const scratch = join(tmpdir(), `linkcare-search-proto-${process.pid}.sqlite`);
  log(`copying to ${scratch}…`);
  copyFileSync(dataFile(o.resources, o.seed), scratch);
  if (existsSync(`${dataset.file}-wal`)) copyFileSync(`${dataset.file}-wal`, `${scratch}-wal`);
  const out: string[] = [];
  try {
    const writer = new Database(scratch);
    writer.pragma('journal_mode = WAL');
    // The longest stored range per date parameter; the store would maintain this at write time.
    const span = new Map(
      (writer.prepare('SELECT param, MAX((julianday(high) - julianday(low)) * 86400000.0) AS ms FROM idx_date GROUP BY param').all() as { param: string; ms: number }[])
        .map((r) => [r.param, Math.ceil(r.ms)]),
    );
    const registry = loadSearchRegistry();
    const references = new Map<string, SearchResult>();
    const cells = new Map<string, Map<string, Cell>>();
    const setups: string[] = [];
    const finalPlans = new Map<string, string[]>();
    const list = variants(span);
    for (const v of list) {
      if (v.setup) {
        const t0 = process.hrtime.bigint();
        for (const stmt of v.setup.sql) writer.exec(stmt);
        writer.pragma('wal_checkpoint(TRUNCATE)');
        setups.push(`before ${v.key}: ${v.setup.what} took ${(elapsedMs(t0) / 1000).toFixed(1)} s`);
      }
      if (o.only && !o.only.has(v.key)) continue;
      // A fresh connection per variant, configured like the store's reader, sees the new schema and stats.
      const db = new Database(scratch, { readonly: true, fileMustExist: true });
      db.pragma('cache_size = -32000');
      const sample = readSample(db);
      const statements = new RewritingStatements(db, chain(v.rewrite));
      const search = new SqliteSearch(statements);
      const row = new Map<string, Cell>();
      for (const [index, s] of SCENARIOS.entries()) {
        const got: Cell = { times: { estimate: [], accurate: [], none: [] }, mismatches: 0, flags: [] };
        const warm = new Rng(o.seed * 1000 + index);
        for (let i = 0; i < o.warmup; i++) {
          const pairs = s.query(warm, sample);
          for (const total of MODES) search.run(planFor(registry, s, pairs, total));
        }
        const rng = new Rng(o.seed * 1000 + index);
        for (let i = 0; i < o.runs; i++) {
          const pairs = s.query(rng, sample);
          for (const total of i % 2 ? ([...MODES].reverse() as Total[]) : MODES) {
            const plan = planFor(registry, s, pairs, total);
            const t0 = process.hrtime.bigint();
            const result = search.run(plan);
            got.times[total].push(elapsedMs(t0));
            const key = `${s.name}|${i}|${total}`;
            if (v.key === 'A') references.set(key, result);
            else if (signature(references.get(key)!, v.totalCap) !== signature(result, v.totalCap)) got.mismatches++;
          }
        }
        // Explain what the last run executed, as rewritten.
        statements.ran.length = 0;
        for (const total of MODES) search.run(planFor(registry, s, s.query(new Rng(o.seed * 1000 + index), sample), total));
        const explained = explainAll(db, statements.ran);
        got.flags = [...new Set(explained.flatMap((e) => e.lines.filter((l) => l.flag).map((l) => `${l.detail} (${l.flag})`)))];
        // Each variant overwrites the last, so the report shows the plans of the last one run.
        finalPlans.set(s.name, explained.map((e) => `\`\`\`sql\n${compactSql(e.sql)}\n\`\`\`\n\`\`\`\n${renderPlan(e)}\n\`\`\``));
        row.set(s.name, got);
        const a = summary(got.times.accurate);
        const n = summary(got.times.none);
        log(`${v.key} ${s.name}: ${fmt(a.median)}/${fmt(a.p95)} ms accurate, ${fmt(n.median)}/${fmt(n.p95)} ms none, mismatches ${got.mismatches}`);
      }
      cells.set(v.key, row);
      db.close();
    }
    const sizes = objectSizes(writer);
    writer.close();

    out.push(`# Search prototypes: ${int(o.resources)} resources, seed ${o.seed}`, '', `${new Date().toISOString()} · ${o.runs} runs per cell after ${o.warmup} warm-up runs, same drawn values for every variant.`, '', `A is ${codeVersion()}; a rewrite whose change that code already makes leaves its SQL as it is.`, '');
    out.push('Variants (cumulative; each applies to a scratch copy):', '', ...list.filter((v) => cells.has(v.key)).map((v) => `- **${v.key}**: ${v.name}`), '', ...setups.map((s) => `- ${s}`), '');
    for (const s of SCENARIOS) {
      out.push(`## ${s.name}: \`${s.shape}\``, '', '| variant | median ms | p95 ms | median ms _total=none | p95 ms _total=none | same results as A | flagged plan lines |', '|---|---:|---:|---:|---:|---|---|');
      for (const v of list.filter((x) => cells.has(x.key))) {
        const c = cells.get(v.key)!.get(s.name)!;
        const a = summary(c.times.accurate);
        const n = summary(c.times.none);
        const same = v.key === 'A' ? '—' : c.mismatches ? `⚠ ${c.mismatches} differ` : 'yes';
        out.push(`| ${v.key} | ${fmt(a.median)} | ${fmt(a.p95)} | ${fmt(n.median)} | ${fmt(n.p95)} | ${same} | ${c.flags.map((f) => `\`${cell(f)}\``).join('; ') || '—'} |`);
      }
      out.push('');
    }
    out.push('## Index sizes at the end', '', '| index | MiB |', '|---|---:|');
    for (const [name, bytes] of [...sizes].filter(([n]) => n.startsWith('idx_') || n.startsWith('proto_') || n.startsWith('resources') || n === 'versions').sort()) {
      out.push(`| ${name} | ${(bytes / 1024 ** 2).toFixed(1)} |`);
    }
    out.push('', `## Plans under ${[...cells.keys()].pop()}`, '');
    for (const [name, plans] of finalPlans) out.push(`### ${name}`, '', ...plans, '');
  } finally {
    for (const s of ['', '-wal', '-shm']) rmSync(scratch + s, { force: true });
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
