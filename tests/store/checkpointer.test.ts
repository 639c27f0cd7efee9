/**
 * The embedded store checkpoints on a worker thread: committed pages reach the database file
 * without any COMMIT on the main thread crossing the auto-checkpoint threshold.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';

const dir = mkdtempSync(join(tmpdir(), 'linkcare-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Commits about 1,000 pages (well under the auto-checkpoint thresholds) and returns the file's growth after `waitMs`. */
async function growthAfterWrites(file: string, backgroundCheckpoint: boolean, waitMs: number): Promise<number> {
  const store = openSqliteStore(file, { backgroundCheckpoint });
  try {
    const before = statSync(file).size;
    const padding = 'x'.repeat(4000);
    for (let batch = 0; batch < 10; batch++) {
      await store.unitOfWork(async (tx) => {
        for (let i = 0; i < 100; i++) {
          const patient: Patient & { id: string } = { resourceType: 'Patient', id: `p-${batch}-${i}`, gender: 'unknown', extension: [{ url: 'urn:test:padding', valueString: padding }] };
          await tx.put(patient);
        }
      });
    }
    await sleep(waitMs);
    return statSync(file).size - before;
  } finally {
    await store.close();
  }
}

test('committed pages reach the database file from the worker, not from a COMMIT', async () => {
  // ~1,000 pages of 4 KiB: the main file grows by ~4 MB once they are checkpointed.
  expect(await growthAfterWrites(join(dir, 'on.sqlite'), true, 1500)).toBeGreaterThan(2_000_000);
  // Without the worker nothing crosses the 4,000-page threshold, so the pages stay in the log.
  expect(await growthAfterWrites(join(dir, 'off.sqlite'), false, 1500)).toBeLessThan(500_000);
});

test('close stops the worker and leaves a store that opens again with every write', async () => {
  const file = join(dir, 'reopen.sqlite');
  const first = openSqliteStore(file);
  await first.unitOfWork((tx) => tx.put({ resourceType: 'Patient', id: 'kept', gender: 'female' }));
  await first.close();
  const second = openSqliteStore(file);
  try {
    expect((await second.read('Patient', 'kept'))?.versionId).toBe('1');
  } finally {
    await second.close();
  }
});
