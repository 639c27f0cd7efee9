/**
 * Crash safety (issue #9): a server taking creates, updates and transactions is killed with
 * SIGKILL at a random moment, again and again. After every restart each acknowledged version is
 * there, no transaction is partly applied, and the audit hash chain verifies.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { verifyAuditChain } from '../../src/audit/verify';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { client } from './helpers/http';
import { envInt, prng, runSeed } from './helpers/random';
import { type ChildServer, killAll, makeDataDir, removeDataDir, startServer, stopServer } from './helpers/server';
import { type Ack, type SentBundle, checkLedger, newLedger, startWriters } from './helpers/workload';

const TRIALS = envInt('RELIABILITY_CRASH_TRIALS', 20);
const WRITERS = 4;
const seed = runSeed();
const rng = prng(seed);
const data = makeDataDir('crash');
afterAll(() => {
  killAll();
  removeDataDir(data.dir);
});

/**
 * Verifies the chain on a copy of the files as the crash left them (database and write-ahead
 * log), which is exactly what the next start recovers from; the original stays untouched for it.
 */
async function verifyChainAsLeft(trial: number): Promise<{ checked: number; problems: unknown[] }> {
  const copy = join(data.dir, `copy-${trial}.sqlite`);
  copyFileSync(data.file, copy);
  if (existsSync(`${data.file}-wal`)) copyFileSync(`${data.file}-wal`, `${copy}-wal`);
  const store = openSqliteStore(copy);
  try {
    return await verifyAuditChain(store);
  } finally {
    await store.close();
  }
}

test(`${TRIALS} SIGKILLs at random moments lose no acknowledged write and break no transaction or audit chain`, async () => {
  process.stdout.write(`crash safety: ${TRIALS} trials, seed ${seed} (RELIABILITY_SEED)\n`);
  const allAcks: Ack[] = [];
  const allBundles: SentBundle[] = [];
  let server: ChildServer = await startServer(data.file);
  let written = 0;
  let cutOff = 0;
  let lastChecked = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const c = client(server.fhir);
    const ledger = newLedger();
    const writers = startWriters(c, ledger, rng, WRITERS, `t${trial}`);
    await new Promise((r) => setTimeout(r, rng.int(50, 500)));
    server.child.kill('SIGKILL');
    const exit = await server.exited;
    writers.stop();
    await writers.done;
    expect(exit.signal).toBe('SIGKILL');
    // Before the kill the server answered every request with success.
    expect(ledger.unexpected).toEqual([]);
    written += ledger.acks.length;
    cutOff += ledger.unanswered;

    const chain = await verifyChainAsLeft(trial);
    expect(chain.problems).toEqual([]);
    // The chain only grows: events of acknowledged writes are never rolled back by recovery.
    expect(chain.checked).toBeGreaterThanOrEqual(lastChecked);
    lastChecked = chain.checked;

    server = await startServer(data.file);
    expect(await checkLedger(client(server.fhir), ledger.acks, ledger.bundles)).toEqual([]);
    allAcks.push(...ledger.acks);
    allBundles.push(...ledger.bundles);
  }
  // Work was really done and really interrupted: acknowledged writes and cut-off requests.
  expect(written).toBeGreaterThan(TRIALS);
  expect(cutOff).toBeGreaterThanOrEqual(TRIALS);
  expect(allBundles.some((b) => b.acked)).toBe(true);

  // Nothing acknowledged in an early trial went missing in a later crash either.
  expect(await checkLedger(client(server.fhir), allAcks, allBundles)).toEqual([]);
  expect(await stopServer(server)).toEqual({ code: 0, signal: null });
  const store = openSqliteStore(data.file);
  const final = await verifyAuditChain(store);
  await store.close();
  expect(final.problems).toEqual([]);
  process.stdout.write(`crash safety: ${written} acknowledged versions, ${cutOff} requests cut off by the kills, ${allBundles.length} transactions sent (${allBundles.filter((b) => b.acked).length} acknowledged), ${final.checked} audit events verified\n`);
});
