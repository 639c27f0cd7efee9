/**
 * Random against time-ordered resource ids, at the store (no HTTP, no validation, no audit):
 *
 *   node --import tsx bench/ids.ts [--db /tmp/ingest-bench/work.sqlite] [--units 200] [--rounds 2]
 *
 * On the scratch copy `npm run bench:ingest` makes of the 100,000-client set, units of work of 50
 * viral-load Observations (each about a different client of clinic-1) are written with random
 * (version 4) ids and with time-ordered (version 7) ids, alternating, in one process, so both
 * meet the same machine load. Prints wall time and this process's CPU time (user, system; the
 * checkpointing thread included) per resource.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { loadSearchRegistry } from '../src/search/registry';
import { createIndexer } from '../src/search/indexer';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store';
import { newTimeOrderedId } from '../src/store/time-ordered-id';
import { viralLoad } from './scenarios/http';

const UNIT = 50;

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

async function main(): Promise<void> {
  const file = flag('db', '/tmp/ingest-bench/work.sqlite');
  const units = Number(flag('units', '200'));
  const rounds = Number(flag('rounds', '2'));
  if (!existsSync(file)) throw new Error(`no database at ${file}: run \`npm run bench:ingest\` once to make the scratch copy`);
  const db = new Database(file, { readonly: true });
  const patients = (db.prepare("SELECT patient_id AS id FROM enrolments WHERE org = 'clinic-1' LIMIT 5000").all() as { id: string }[]).map((r) => r.id);
  db.close();
  const store = openSqliteStore(file, { indexer: createIndexer(loadSearchRegistry(), 'http://localhost/fhir') });
  const kinds = { 'random (v4)': randomUUID, 'time-ordered (v7)': newTimeOrderedId };
  let k = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [name, newId] of Object.entries(kinds)) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for (let u = 0; u < units; u++) {
          await store.unitOfWork(async (tx) => {
            // A stride through the clients, so consecutive Observations are about unrelated clients.
            for (let i = 0; i < UNIT; i++, k++) await tx.put({ ...viralLoad(patients[(k * 7919) % patients.length]!, k), id: newId() } as never);
          });
        }
        const cpu = process.cpuUsage(cpu0);
        const n = units * UNIT;
        console.log(`round ${round + 1}, ${name}: ${(((performance.now() - t0) * 1000) / n).toFixed(0)} µs wall, CPU user ${(cpu.user / n).toFixed(0)} + system ${(cpu.system / n).toFixed(0)} µs per resource`);
      }
    }
  } finally {
    await store.close();
  }
}

void main();
