/**
 * The `_security` index of `npm run reindex` follows the label table of the code doing the
 * indexing, not the one a resource was written under (src/consent/label-indexer.ts): a resource
 * stored without the label its codes call for (written before the table had it) is found by it.
 */
import type { Encounter } from '@medplum/fhirtypes';
import { BASE, type TestApp, startTestApp, testRegistry } from '../helpers/app';
import { ACT_CODE } from '../../src/consent/labels';
import { labelledIndexer } from '../../src/consent/label-indexer';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';

let t: TestApp;
beforeAll(() => {
  // A store indexed as reindex indexes it.
  t = startTestApp({}, openSqliteStore(':memory:', { indexer: labelledIndexer(testRegistry(), BASE) }));
});
afterAll(() => t.close());

test('a resource stored without its derived label is indexed with it', async () => {
  const patient = (await t.http.post('/fhir/Patient').set('Content-Type', 'application/fhir+json').send(JSON.stringify({ resourceType: 'Patient', gender: 'female' }))).body.id as string;
  const encounter: Encounter & { id: string } = {
    resourceType: 'Encounter',
    id: 'label-index-old-encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: `Patient/${patient}` },
    reasonCode: [{ coding: [{ system: 'http://snomed.info/sct', code: '86406008' }] }],
  };
  // As a store written under an older table holds it: no meta.security at all.
  const stored = await t.store.unitOfWork((tx) => tx.put(encounter, { custodian: 'test-org', patient, method: 'POST' }));
  expect(stored.resource?.meta?.security).toBeUndefined();
  const found = await t.http.get(`/fhir/Encounter?_security=${encodeURIComponent(`${ACT_CODE}|HIV`)}&subject=Patient/${patient}`);
  expect(found.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([encounter.id]);
});
