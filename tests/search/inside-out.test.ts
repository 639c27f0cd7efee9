/**
 * Chains and `_has` resolved inside-out (matching targets first, then the references to them),
 * and `*` revincludes listed by parameter: the same answers as before, visibility applied at
 * every level, and SQL that probes idx_ref instead of reading every row of a parameter.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { createIndexer } from '../../src/search/indexer';
import { parseSearch } from '../../src/search/parse';
import type { Predicate, SearchPlan } from '../../src/search/plan';
import type { Store } from '../../src/store/port';
import { SqliteSearch } from '../../src/store/sqlite/search-sql';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { Statements } from '../../src/store/sqlite/statements';
import { BASE, testRegistry } from '../helpers/app';

const dir = mkdtempSync(join(tmpdir(), 'linkcare-inside-out-'));
const file = join(dir, 'store.sqlite');
let store: Store;
const CODE = 'https://linkcare.example.org/fhir/sid/client-code';
/** What a caller at org-a may see in these tests: what org-a holds. */
const ORG_A: Predicate[] = [{ kind: 'custodian', custodians: ['org-a'] }];

async function put(custodian: string, body: Record<string, unknown>): Promise<void> {
  await store.unitOfWork(async (tx) => void (await tx.put(body as unknown as Resource & { id: string }, { custodian })));
}

function plan(type: string, query: string, visibility?: Predicate[]): SearchPlan {
  const pairs = [...new URLSearchParams(query)] as [string, string][];
  const p = parseSearch(testRegistry(), [type], pairs, { baseUrl: BASE }).plan;
  return { ...p, count: 100, total: 'accurate', ...(visibility ? { visibility } : {}) };
}

async function found(type: string, query: string, visibility?: Predicate[]): Promise<{ matches: string[]; included: string[]; total?: number }> {
  const r = await store.search(plan(type, query, visibility));
  return { matches: r.matches.map((m) => m.id).sort(), included: r.included.map((m) => m.id).sort(), total: r.total };
}

/** SQLite's plan for the search's WHERE. */
function explain(type: string, query: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const where = new SqliteSearch(new Statements(db)).whereSql(plan(type, query, ORG_A));
    return (db.prepare(`EXPLAIN QUERY PLAN SELECT r.rid FROM resources r WHERE ${where.sql}`).all(...where.args) as { detail: string }[])
      .map((r) => r.detail)
      .join('\n');
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  store = openSqliteStore(file, { indexer: createIndexer(testRegistry(), BASE) });
  await put('org-a', { resourceType: 'Patient', id: 'pa', gender: 'female', identifier: [{ system: CODE, value: 'AAA' }] });
  // Held by another organisation: invisible to org-a, and so must be anything only it makes match.
  await put('org-b', { resourceType: 'Patient', id: 'pb', gender: 'male', identifier: [{ system: CODE, value: 'BBB' }] });
  for (const [id, subject] of [['sra', 'pa'], ['srb', 'pb']]) {
    await put('org-a', { resourceType: 'ServiceRequest', id, status: 'active', intent: 'order', subject: { reference: `Patient/${subject}` } });
  }
  for (const [id, focus] of [['ta', 'sra'], ['tb', 'srb']]) {
    await put('org-a', { resourceType: 'Task', id, status: 'requested', intent: 'order', focus: { reference: `ServiceRequest/${focus}` } });
  }
  const hiv = { coding: [{ system: 'http://loinc.org', code: '49905-3' }] };
  await put('org-a', { resourceType: 'Observation', id: 'oa', status: 'final', code: hiv, subject: { reference: 'Patient/pa' } });
  // org-b's test of org-a's client: pa must not match a _has on it for org-a.
  await put('org-b', { resourceType: 'Observation', id: 'ob', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '20507-0' }] }, subject: { reference: 'Patient/pa' } });
  await put('org-a', { resourceType: 'Encounter', id: 'ea', status: 'finished', class: { code: 'FLD' }, subject: { reference: 'Patient/pa' } });
  await put('org-a', { resourceType: 'Observation', id: 'gone', status: 'final', code: hiv, subject: { reference: 'Patient/pa' } });
  await store.unitOfWork(async (tx) => void (await tx.remove('Observation', 'gone')));
}, 30_000);
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('chains, inside-out', () => {
  test('two levels find the Task of a client code', async () => {
    expect((await found('Task', 'focus:ServiceRequest.subject:Patient.identifier=AAA')).matches).toEqual(['ta']);
    expect((await found('Task', 'focus:ServiceRequest.subject:Patient.identifier=BBB')).matches).toEqual(['tb']);
  });

  test('a chain through an invisible target stays invisible', async () => {
    expect(await found('Task', 'focus:ServiceRequest.subject:Patient.identifier=BBB', ORG_A)).toEqual({ matches: [], included: [], total: 0 });
    expect((await found('Task', 'focus:ServiceRequest.subject:Patient.identifier=AAA', ORG_A)).matches).toEqual(['ta']);
    expect((await found('ServiceRequest', 'subject:Patient.gender=male', ORG_A)).matches).toEqual([]);
  });

  test('each level probes idx_ref by target instead of reading the whole parameter', () => {
    const p = explain('Task', 'focus:ServiceRequest.subject:Patient.identifier=AAA');
    expect(p).not.toMatch(/idx_ref\w* \(param=\?\)/);
    expect(p.match(/idx_ref_target_rid \(param=\? AND target_id=\? AND target_type=\?\)/g)?.length).toBe(2);
  });
});

describe('_has, inside-out', () => {
  test('matches through a visible source only', async () => {
    expect((await found('Patient', '_has:Observation:subject:code=49905-3')).matches).toEqual(['pa']);
    expect((await found('Patient', '_has:Observation:subject:code=20507-0')).matches).toEqual(['pa']);
    expect((await found('Patient', '_has:Observation:subject:code=20507-0', ORG_A)).matches).toEqual([]);
    expect((await found('Patient', '_has:Observation:subject:code=49905-3', ORG_A)).matches).toEqual(['pa']);
  });

  test('a deleted source does not count, and the target type must agree', async () => {
    expect((await found('Patient', '_has:Observation:subject:_id=gone')).matches).toEqual([]);
    expect((await found('Group', '_has:Observation:subject:code=49905-3')).matches).toEqual([]);
  });

  test('the outer resource is found by (type, id), not by a correlated read per row', () => {
    expect(explain('Patient', '_has:Observation:subject:code=49905-3')).not.toMatch(/CORRELATED LIST SUBQUERY/);
  });
});

describe('revinclude of every parameter', () => {
  test('`Type:*` and `*` find what `Type:param` finds, visible ones only', async () => {
    const named = await found('Patient', '_id=pa&_revinclude=Observation:subject&_revinclude=Encounter:subject', ORG_A);
    expect(named.included).toEqual(['ea', 'oa']);
    expect((await found('Patient', '_id=pa&_revinclude=Observation:*', ORG_A)).included).toEqual(['oa']);
    expect((await found('Patient', '_id=pa&_revinclude=*', ORG_A)).included).toEqual(['ea', 'oa', 'sra']);
    expect((await found('Patient', '_id=pa&_revinclude=*')).included).toEqual(['ea', 'oa', 'ob', 'sra']);
    expect((await found('Patient', '_id=pb&_revinclude=*')).included).toEqual(['srb']);
  });
});
