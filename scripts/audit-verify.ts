/**
 * `npm run audit:verify`: walks the audit hash chain and reports any changed, missing or
 * reordered event, and a head that does not match the last link. Exit code 0 = intact, 1 = not.
 */
import { ConfigError, loadConfig } from '../src/config';
import { openStore } from '../src/store/open';
import { loadSearchRegistry } from '../src/search/registry';
import { createIndexer } from '../src/search/indexer';
import { verifyAuditChain } from '../src/audit/verify';

async function main(): Promise<number> {
  const config = loadConfig();
  const store = await openStore(config.database, createIndexer(loadSearchRegistry(), config.baseUrl));
  try {
    const report = await verifyAuditChain(store);
    for (const p of report.problems.slice(0, 50)) process.stdout.write(`problem at link ${p.seq}${p.eventId ? ` (AuditEvent/${p.eventId})` : ''}: ${p.problem}\n`);
    process.stdout.write(`${report.checked} audit events checked: ${report.problems.length ? `${report.problems.length} problem(s)` : 'chain intact'}\n`);
    return report.problems.length ? 1 : 0;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`audit:verify failed: ${err instanceof ConfigError ? err.message : (err as Error).stack}\n`);
    process.exit(err instanceof ConfigError ? 78 : 2);
  },
);
