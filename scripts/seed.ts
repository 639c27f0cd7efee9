/**
 * `npm run seed -- --clients N [--seed S] [--as-of YYYY-MM-DD] [--clinics C] [--community M]`:
 * fills the configured store (DATABASE_URL) with a deterministic synthetic programme
 * (src/seed, docs/seed.md) and prints how long it took. Never real people: client codes only.
 */
import { ConfigError, loadConfig } from '../src/config';
import { openStore } from '../src/store/open';
import { loadSearchRegistry } from '../src/search/registry';
import { createIndexer } from '../src/search/indexer';
import { seedStore } from '../src/seed/write';
import { DEFAULT_AS_OF } from '../src/seed/generate';

function flag(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function whole(name: string, fallback: number): number {
  const v = Number(flag(name, String(fallback)));
  if (!Number.isInteger(v) || v < 0) throw new ConfigError(`--${name} must be a whole number`);
  return v;
}

async function main(): Promise<void> {
  const clients = whole('clients', 1000);
  const seed = whole('seed', 1);
  const asOf = flag('as-of', DEFAULT_AS_OF)!;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) throw new ConfigError('--as-of must be a date YYYY-MM-DD');
  const config = loadConfig();
  const store = await openStore(config.database, createIndexer(loadSearchRegistry(), config.baseUrl));
  try {
    const report = await seedStore(store, { clients, seed, asOf, clinics: whole('clinics', 3), communityOrgs: whole('community', 4), batchClients: 500 }, {
      onBatch: (c, r) => process.stderr.write(`\rseeded ${c} clients, ${r} resources`),
    });
    process.stderr.write('\n');
    process.stdout.write(`seeded ${report.clients} clients (${report.resources} resources, seed ${seed}, as of ${asOf}) in ${report.seconds.toFixed(1)} s (${Math.round(report.resources / report.seconds)} resources/s)\n`);
    process.stdout.write(`${JSON.stringify(report.byType)}\n`);
  } finally {
    await store.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`seed failed: ${err instanceof ConfigError ? err.message : (err as Error).stack}\n`);
  process.exit(err instanceof ConfigError ? 78 : 1);
});
