/**
 * The MongoDB translator, checked without a server: every shared search case (tests/search/cases.ts)
 * runs on the SQLite store and, through src/store/mongo/search.ts, as MongoDB filters and
 * pipelines evaluated by mingo over documents built as the MongoDB store builds them. Both must
 * return the same ids (in the same order when sorted, page by page when paged) and totals.
 */
import { Aggregator, Query } from 'mingo';
import 'mingo/init/system';
import type { Resource, ValueSet } from '@medplum/fhirtypes';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import type { SearchResult, Store } from '../../src/store/port';
import { createIndexer } from '../../src/search/indexer';
import { parseSearch } from '../../src/search/parse';
import { resolveValueSets } from '../../src/search/value-sets';
import type { SearchPlan } from '../../src/search/plan';
import { type ResourceDoc, emptyIdx, idxDoc, resourceDoc } from '../../src/store/mongo/documents';
import { type ResourceQueries, runSearch } from '../../src/store/mongo/search';
import { testRegistry } from '../helpers/app';
import { CASES, CASE_BASE, ENROLMENTS, FIXTURES, type SearchCase } from './cases';

const registry = testRegistry();
const indexer = createIndexer(registry, CASE_BASE);
let sqlite: Store;
let docs: ResourceDoc[] = [];

/** ResourceQueries over in-memory documents, evaluated by mingo. */
function mingoQueries(all: ResourceDoc[]): ResourceQueries {
  return {
    async find(filter, { projection, limit }) {
      let cursor = new Query(filter).find<ResourceDoc>(structuredClone(all), projection);
      if (limit !== undefined) cursor = cursor.limit(limit);
      return cursor.all();
    },
    async aggregate(pipeline) {
      return new Aggregator(pipeline).run(structuredClone(all)) as Record<string, unknown>[];
    },
    async count(filter) {
      return new Query(filter).find(structuredClone(all)).count();
    },
  };
}

beforeAll(async () => {
  sqlite = openSqliteStore(':memory:', { indexer });
  await sqlite.unitOfWork(async (tx) => {
    for (const fx of FIXTURES) {
      await tx.put(fx.body, { custodian: fx.custodian, patient: fx.patient });
      if (fx.deleted) await tx.remove(fx.body.resourceType, fx.body.id);
    }
    for (const [p, org] of ENROLMENTS) await tx.enrol(p, org);
  });
  // Documents exactly as the MongoDB store writes them (rid = write order, as the SQLite rowid).
  docs = [];
  for (const [i, fx] of FIXTURES.entries()) {
    const v = (await sqlite.read(fx.body.resourceType, fx.body.id))!;
    const enrolled = ENROLMENTS.filter(([p]) => p === v.id).map(([, o]) => o);
    const idx = v.resource ? idxDoc(v.type, indexer(v.resource)) : emptyIdx();
    docs.push(resourceDoc(v, { rid: i + 1, seq: i + 1 }, v.resource && JSON.stringify(v.resource), idx, enrolled));
  }
});
afterAll(() => sqlite.close());

function planOf(c: SearchCase): SearchPlan {
  const [typesPart, query = ''] = c.q.split('?');
  const pairs = query ? query.split('&').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]) : [];
  const { plan } = parseSearch(registry, typesPart!.split(','), pairs, { baseUrl: CASE_BASE });
  plan.count = c.pageSize ?? 100;
  if (c.vis) plan.visibility = c.vis;
  return plan;
}

async function lookupValueSet(url: string): Promise<ValueSet | undefined> {
  return FIXTURES.map((fx) => fx.body as Resource).find((r): r is ValueSet => r.resourceType === 'ValueSet' && r.url === url);
}

interface Outcome {
  pages: string[][];
  included: string[];
  total?: number;
}

/** Runs a case to the last page on one executor. */
async function run(c: SearchCase, search: (plan: SearchPlan) => Promise<SearchResult>): Promise<Outcome> {
  const out: Outcome = { pages: [], included: [] };
  let cursor: string | undefined;
  do {
    const plan = planOf(c);
    await resolveValueSets(plan, lookupValueSet);
    plan.cursor = cursor;
    const r = await search(plan);
    const ids = r.matches.map((m) => `${m.type}/${m.id}`);
    out.pages.push(c.ordered ? ids : ids.sort());
    out.included.push(...r.included.map((m) => `${m.type}/${m.id}`));
    out.total ??= r.total;
    cursor = r.nextCursor;
    if (out.pages.length > 50) throw new Error('paging does not end');
  } while (cursor);
  out.included.sort();
  return out;
}

describe('MongoDB translator (mingo) agrees with the SQLite store', () => {
  const nonEmpty: string[] = [];
  test.each(CASES.map((c) => [c.q + (c.vis ? ' [visibility]' : '') + (c.pageSize ? ` [pages of ${c.pageSize}]` : ''), c] as const))('%s', async (_name, c) => {
    const expected = await run(c, (plan) => sqlite.search(plan));
    const actual = await run(c, (plan) => runSearch(mingoQueries(docs), plan));
    expect(actual).toEqual(expected);
    if (expected.pages.flat().length || expected.total) nonEmpty.push(c.q);
  });

  test('the cases exercise real matches, not only empty results', () => {
    expect(nonEmpty.length).toBeGreaterThan(CASES.length * 0.75);
  });
});

test('paging cases really span several pages', async () => {
  const paged = CASES.filter((c) => c.pageSize);
  for (const c of paged) expect([c.q, (await run(c, (plan) => runSearch(mingoQueries(docs), plan))).pages.length > 1]).toEqual([c.q, true]);
});
