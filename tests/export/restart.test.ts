/** Durability: an export half done when its app stops resumes in a new app on the same store file. */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXPORT_QUEUE } from '../../src/export/job';
import { downloadAll, kickOff, startExportApp, tempDir, waitForManifest } from './app';
import { client, observation } from './data';

const ORG = 'org-restart';

test('a job claimed and half written when the instance dies (with a torn last write) resumes after a restart, each resource once', async () => {
  const dataDir = tempDir();
  const file = join(dataDir, 'linkcare.sqlite');
  const first = startExportApp({ workers: false, dataDir, file, options: { pageSize: 2, pagesPerTurn: 1 } });
  const clin = first.as(['clinician'], ORG);
  const made = [];
  for (let i = 0; i < 5; i++) {
    const c = await client(clin);
    made.push(c);
    await observation(clin, c.id, `2024-04-0${i + 1}T09:00:00Z`);
  }
  const status = await kickOff(clin, '/fhir/$export?_type=Patient,Observation');
  const jobId = status.split('/').pop()!;
  // Two turns of one page each: 4 Patients written and recorded.
  await first.turn();
  await first.turn();
  expect((await clin.get(status)).headers['x-progress']).toMatch(/^4 resources; Patient/);
  // The instance claims the job again and dies mid-page: a partial line reaches the file, the progress never does.
  const [claimed] = await first.store.claimJobs(EXPORT_QUEUE, { now: new Date().toISOString(), leaseMs: 100, limit: 1 });
  expect(claimed!.id).toBe(jobId);
  appendFileSync(join(dataDir, 'exports', jobId, 'Patient.ndjson'), '{"resourceType":"Patient","id":"torn');
  await first.close();

  const second = startExportApp({ dataDir, file, options: { pageSize: 2, pagesPerTurn: 1, pollMs: 20 } });
  try {
    const again = second.as(['clinician'], ORG);
    // The lease runs out; the new instance's worker claims the job and carries on.
    const manifest = await waitForManifest(again, status);
    expect(manifest.output.map((o) => [o.type, o.count])).toEqual([['Patient', 5], ['Observation', 5]]);
    const files = await downloadAll(again, manifest);
    expect(files.get('Patient')!.map((p) => p.id).sort()).toEqual(made.map((c) => c.id).sort());
    expect(files.get('Observation')).toHaveLength(5);
    expect(readFileSync(join(dataDir, 'exports', jobId, 'Patient.ndjson'), 'utf8')).not.toContain('torn');
    const job = await second.store.getJob(jobId);
    expect(job!.state).toBe('done');
    expect(job!.attempts).toBeGreaterThanOrEqual(4);
  } finally {
    await second.close();
  }
});
