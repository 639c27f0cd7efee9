/**
 * `npm run migrate -- --from <DATABASE_URL> --to <DATABASE_URL>`: copies every version,
 * enrolment, pseudonym, audit link and job from one store to another, rebuilds the target's
 * search index, then verifies counts and content hashes. Rerun after an interruption: it resumes.
 * Stop linkcare on the source first (or accept that writes after the start are not copied).
 */
import { ConfigError, parseDatabaseUrl } from '../src/config';
import { type MigrationTarget, digest, migrate, sameDigest } from '../src/store/migrate';
import { openSqliteMigration } from '../src/store/sqlite/export-import';
import { openMongoStore } from '../src/store/mongo/mongo-store';
import { mongoMigration } from '../src/store/mongo/export-import';
import { loadSearchRegistry } from '../src/search/registry';
import { labelledIndexer } from '../src/consent/label-indexer';

function arg(name: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new ConfigError(`usage: npm run migrate -- --from <DATABASE_URL> --to <DATABASE_URL> (missing ${name})`);
  return v;
}

async function open(url: string, create: boolean, indexer: ReturnType<typeof labelledIndexer>): Promise<MigrationTarget> {
  const db = parseDatabaseUrl(url);
  if (db.kind === 'sqlite') {
    if (db.file === ':memory:') throw new ConfigError('migrate needs a database file, not sqlite::memory:');
    return openSqliteMigration(db.file, { indexer, create });
  }
  return mongoMigration(await openMongoStore(db.url, { indexer, allowStandalone: process.env.MONGODB_ALLOW_STANDALONE === '1' }));
}

async function main(): Promise<number> {
  const from = arg('--from');
  const to = arg('--to');
  if (from === to) throw new ConfigError('--from and --to name the same database');
  const baseUrl = (process.env.BASE_URL || 'http://localhost:8080/fhir').replace(/\/+$/, '');
  const indexer = labelledIndexer(loadSearchRegistry(), baseUrl);
  const source = await open(from, false, indexer);
  const target = await open(to, true, indexer);
  try {
    const { source: a, target: b } = await migrate(source, target, {
      onProgress: (phase, n) => process.stdout.write(`\r${phase}: +${n}            `),
    });
    process.stdout.write('\n');
    for (const k of ['versions', 'enrolments', 'pseudonyms', 'auditLinks', 'jobs'] as const) {
      process.stdout.write(`${k}: source ${a[k]}, target ${b[k]}${a.hash[k] === b.hash[k] ? '' : ' (CONTENT DIFFERS)'}\n`);
    }
    const ok = sameDigest(a, b) && sameDigest(b, await digest(target));
    process.stdout.write(ok ? 'verified: counts and content hashes match\n' : 'VERIFICATION FAILED\n');
    return ok ? 0 : 1;
  } finally {
    await source.close();
    await target.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`migrate failed: ${err instanceof ConfigError ? err.message : (err as Error).stack}\n`);
    process.exit(err instanceof ConfigError ? 78 : 1);
  },
);
