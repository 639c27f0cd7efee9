/**
 * The scratch database the ingest benches write into (a copy of the seeded 100,000-client set,
 * made by `npm run bench:ingest`), and the clients their Observations are about.
 */
import Database from 'better-sqlite3';

/** Default path of the scratch copy. */
export const INGEST_DB = '/tmp/ingest-bench/work.sqlite';
/** The organisation whose clients the benches write about and act for. */
export const INGEST_ORG = 'clinic-1';

/** Up to 5,000 clients enrolled at INGEST_ORG, and the store's resource count. */
export function sampleIngestClients(file: string): { patients: string[]; resources: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const patients = (db.prepare('SELECT patient_id AS id FROM enrolments WHERE org = ? ORDER BY patient_id LIMIT 5000').all(INGEST_ORG) as { id: string }[]).map((r) => r.id);
    const resources = (db.prepare('SELECT COUNT(*) AS n FROM resources').get() as { n: number }).n;
    if (!patients.length) throw new Error(`no clients enrolled at ${INGEST_ORG} in ${file}`);
    return { patients, resources };
  } finally {
    db.close();
  }
}
