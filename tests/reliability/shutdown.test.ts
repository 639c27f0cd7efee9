/**
 * Graceful shutdown under load (issue #9): SIGTERM while writers are busy. The server finishes
 * what it accepted and exits 0; after a restart every acknowledged write is there, transactions
 * are whole or absent, and the audit chain verifies.
 */
import { verifyAuditChain } from '../../src/audit/verify';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { client } from './helpers/http';
import { prng, runSeed } from './helpers/random';
import { type ChildServer, killAll, makeDataDir, removeDataDir, startServer, stopServer } from './helpers/server';
import { checkLedger, newLedger, startWriters } from './helpers/workload';

const WRITERS = 12;
const data = makeDataDir('shutdown');
let server: ChildServer | undefined;
afterAll(async () => {
  if (server) await stopServer(server);
  killAll();
  removeDataDir(data.dir);
});

test('SIGTERM under load loses no acknowledged write', async () => {
  const rng = prng(runSeed() + 1);
  const first = await startServer(data.file);
  const ledger = newLedger();
  const writers = startWriters(client(first.fhir), ledger, rng, WRITERS, 'shutdown');
  await new Promise((r) => setTimeout(r, 1500));
  const acksBeforeSignal = ledger.acks.length;
  first.child.kill('SIGTERM');
  // A clean stop: in-flight requests finished, the store closed, exit code 0.
  expect(await first.exited).toEqual({ code: 0, signal: null });
  writers.stop();
  await writers.done;
  // Before and during shutdown the server answered with success or not at all, never an error.
  expect(ledger.unexpected).toEqual([]);
  expect(acksBeforeSignal).toBeGreaterThan(10);

  server = await startServer(data.file);
  expect(await checkLedger(client(server.fhir), ledger.acks, ledger.bundles)).toEqual([]);
  expect(await stopServer(server)).toEqual({ code: 0, signal: null });
  server = undefined;
  const store = openSqliteStore(data.file);
  const chain = await verifyAuditChain(store);
  await store.close();
  expect(chain.problems).toEqual([]);
  process.stdout.write(`shutdown: ${ledger.acks.length} acknowledged versions (${ledger.acks.length - acksBeforeSignal} after SIGTERM was sent), ${ledger.unanswered} requests cut off, all present after restart\n`);
});
