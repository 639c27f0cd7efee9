/**
 * `npm run reindex`: rebuilds every search index value after SearchParameter definitions change.
 * Works in short batches, so a running server keeps answering reads and writes meanwhile.
 */
import { ConfigError, loadConfig } from '../src/config';
import { openStore } from '../src/store/open';
import { loadSearchRegistry } from '../src/search/registry';
import { labelledIndexer } from '../src/consent/label-indexer';

async function main(): Promise<void> {
  const config = loadConfig();
  const registry = loadSearchRegistry();
  const store = await openStore(config.database, labelledIndexer(registry, config.baseUrl));
  const started = Date.now();
  const total = await store.reindex({
    batchSize: 500,
    onBatch: (done) => process.stdout.write(`\rreindexed ${done} resources`),
  });
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`\nreindexed ${total} resources in ${seconds.toFixed(1)} s (${Math.round(total / Math.max(seconds, 0.001))}/s)\n`);
  await store.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`reindex failed: ${err instanceof ConfigError ? err.message : (err as Error).stack}\n`);
  process.exit(err instanceof ConfigError ? 78 : 1);
});
