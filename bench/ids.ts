/**
 * Random against time-ordered resource ids, at the store (no HTTP, no validation, no audit):
 *
 *   node --import tsx bench/ids.ts [--db /tmp/ingest-bench/work.sqlite] [--units 200] [--rounds 2]
 *
 * On the scratch copy `npm run bench:ingest` makes of the 100,000-client set, units of work of 50
 * viral-load Observations (each about a different client of the ingest organisation) are written with random
 * (version 4) ids and with time-ordered (version 7) ids, alternating, in one process, so both
 * meet the same machine load. Prints wall time and this process's CPU time (user, system; the
 * checkpointing thread included) per resource.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { loadSearchRegistry } from '../src/search/registry';
import { createIndexer } from '../src/search/indexer';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store';
import { newTimeOrderedId } from '../src/store/time-ordered-id';
import { viralLoad } from './scenarios/http';
import { INGEST_DB, sampleIngestClients } from './ingest-data';
import { flag } from './options';

const UNIT = 50;

const option = (name: string, fallback: string): string => flag(process.argv, name) ?? fallback;

async function main(): Promise<void> {
  const file = option('db', INGEST_DB);
  const units = Number(option('units', '200'));
  const rounds = Number(option('rounds', '2'));
  if (!existsSync(file)) throw new Error(`no database at ${file}: run \`npm run bench:ingest\` once to make the scratch copy`);
  const { patients } = sampleIngestClients(file);
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
