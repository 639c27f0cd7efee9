/** Type-level search with _id, _lastUpdated, _count, paging and strict/lenient handling. */
import { BASE, FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';

let t: TestApp;
beforeEach(() => {
  t = startTestApp();
});
afterEach(() => t.close());

async function makeOrgs(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await t.http.post('/fhir/Organization').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Organization', name: `Org ${i}` }));
    ids.push(r.body.id);
  }
  return ids;
}

test('searchset Bundle with total, match entries, fullUrl and a self link', async () => {
  const [a, b] = await makeOrgs(3);
  const res = await t.http.get(`/fhir/Organization?_id=${a},${b}`);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 });
  expect(res.body.entry.map((e: { search: { mode: string } }) => e.search.mode)).toEqual(['match', 'match']);
  expect(res.body.entry[0].fullUrl).toBe(`${BASE}/Organization/${res.body.entry[0].resource.id}`);
  expect(res.body.link[0]).toEqual({ relation: 'self', url: `${BASE}/Organization?_id=${encodeURIComponent(`${a},${b}`)}` });
});

test('_count pages through everything once with next links, while inserts happen', async () => {
  const ids = await makeOrgs(7);
  const seen: string[] = [];
  let url: string | undefined = '/fhir/Organization?_count=3';
  while (url) {
    const res = await t.http.get(url);
    seen.push(...(res.body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id));
    const next = res.body.link.find((l: { relation: string }) => l.relation === 'next');
    url = next ? `/fhir${(next.url as string).slice(BASE.length)}` : undefined;
    await makeOrgs(1);
  }
  expect(seen.slice(0, 7)).toEqual(ids);
  expect(new Set(seen).size).toBe(seen.length);
});

test('_lastUpdated with prefixes', async () => {
  await makeOrgs(2);
  const future = encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString());
  expect((await t.http.get(`/fhir/Organization?_lastUpdated=lt${future}`)).body.total).toBe(2);
  expect((await t.http.get(`/fhir/Organization?_lastUpdated=gt${future}`)).body.total).toBe(0);
  expect((await t.http.get('/fhir/Organization?_lastUpdated=ge2020')).body.total).toBe(2);
  expect((await t.http.get('/fhir/Organization?_lastUpdated=eb2020-01')).body.total).toBe(0);
  const bad = await t.http.get('/fhir/Organization?_lastUpdated=soon');
  expect(bad.status).toBe(400);
  expect(bad.body.issue[0].expression).toEqual(['_lastUpdated']);
});

test('_summary=count, _sort and _total=none', async () => {
  await makeOrgs(3);
  const c = await t.http.get('/fhir/Organization?_summary=count');
  expect(c.body.total).toBe(3);
  expect(c.body.entry).toBeUndefined();
  const sorted = await t.http.get('/fhir/Organization?_sort=-_lastUpdated');
  expect(sorted.body.entry[0].resource.name).toBe('Org 2');
  const none = await t.http.get('/fhir/Organization?_total=none');
  expect(none.body.total).toBeUndefined();
  expect((await t.http.get('/fhir/Organization?_sort=nonexistent')).status).toBe(400);
  const byName = await t.http.get('/fhir/Organization?_sort=-name');
  expect(byName.body.entry.map((e: { resource: { name: string } }) => e.resource.name)).toEqual(['Org 2', 'Org 1', 'Org 0']);
});

test('unknown parameters: lenient ignores and reports; strict rejects', async () => {
  await makeOrgs(2);
  const lenient = await t.http.get('/fhir/Organization?foo=bar&_count=5');
  expect(lenient.status).toBe(200);
  expect(lenient.body.total).toBe(2);
  const oo = lenient.body.entry.find((e: { search: { mode: string } }) => e.search.mode === 'outcome');
  expect(oo.resource.issue[0].expression).toEqual(['foo']);
  expect(lenient.body.link[0].url).toBe(`${BASE}/Organization?_count=5`);
  const strict = await t.http.get('/fhir/Organization?foo=bar').set('Prefer', 'handling=strict');
  expect(strict.status).toBe(400);
  expect(strict.body.issue[0].diagnostics).toContain('foo');
});

test('POST _search with form parameters behaves as GET', async () => {
  const [a] = await makeOrgs(2);
  const res = await t.http.post('/fhir/Organization/_search').set('Content-Type', 'application/x-www-form-urlencoded').send(`_id=${a}`);
  expect(res.status).toBe(200);
  expect(res.body.total).toBe(1);
});

test("a page's self link is that page (its cursor), and says the page size it got", async () => {
  await makeOrgs(3);
  const first = await t.http.get('/fhir/Organization?_count=2');
  const next = first.body.link.find((l: { relation: string }) => l.relation === 'next').url as string;
  const second = await t.http.get(next.slice(BASE.length - '/fhir'.length));
  expect(second.body.link[0]).toEqual({ relation: 'self', url: next });
  // Read again at its self link, the page is the same page.
  const again = await t.http.get(second.body.link[0].url.slice(BASE.length - '/fhir'.length));
  expect(again.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(second.body.entry.map((e: { resource: { id: string } }) => e.resource.id));
  const capped = await t.http.get('/fhir/Organization?_count=5000');
  expect(capped.body.link[0].url).toBe(`${BASE}/Organization?_count=1000`);
  const history = await t.http.get('/fhir/Organization/_history?_count=5000');
  expect(history.body.link[0].url).toBe(`${BASE}/Organization/_history?_count=1000`);
});

test('history ignores parameters it does not take, and refuses them under Prefer: handling=strict', async () => {
  await makeOrgs(1);
  expect((await t.http.get('/fhir/Organization/_history?status=final')).status).toBe(200);
  const strict = await t.http.get('/fhir/Organization/_history?status=final').set('Prefer', 'handling=strict');
  expect(strict.status).toBe(400);
  expect(strict.body.issue[0].expression).toEqual(['status']);
  expect((await t.http.get('/fhir/Organization/_history?_count=1').set('Prefer', 'handling=strict')).status).toBe(200);
});
