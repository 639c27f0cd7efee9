/** The audit trail names clients by code, taking a code a write left in the unit's memo instead of re-reading the Patient. */
import type { AuditEvent } from '@medplum/fhirtypes';
import { AuditTrail } from '../../src/audit/recorder';
import { CLIENT_CODE_SYSTEM, clientCodeMemoKey } from '../../src/privacy/client-code';
import type { StoreTx } from '../../src/store/port';

function fakeTx(memo: Map<string, unknown>) {
  const reads: string[] = [];
  const events: AuditEvent[] = [];
  const tx = {
    memo,
    read: async (type: string, id: string) => {
      reads.push(`${type}/${id}`);
      return { type, id, versionId: '1', lastUpdated: '', deleted: false, resource: { resourceType: 'Patient', id, identifier: [{ system: CLIENT_CODE_SYSTEM, value: `READ-${id}` }] } };
    },
    appendAudit: async (e: AuditEvent) => {
      events.push(e);
      return {} as never;
    },
  } as unknown as StoreTx;
  return { tx, reads, events };
}

const codesIn = (e: AuditEvent) => (e.entity ?? []).map((x) => x.what?.identifier?.value).filter(Boolean);

test('a code in the memo is used without reading the Patient; other clients are read', async () => {
  const { tx, reads, events } = fakeTx(new Map([[clientCodeMemoKey('p1'), 'MEMO-P1']]));
  const trail = new AuditTrail({ requestId: 'r' });
  trail.add({ action: 'C', subtype: 'create', outcome: '0', references: ['Observation/a', 'Observation/b'], patientIds: ['p1', 'p2'] });
  await trail.write(tx);
  expect(reads).toEqual(['Patient/p2']);
  expect(codesIn(events[0]!)).toEqual(expect.arrayContaining(['MEMO-P1', 'READ-p2']));
});
