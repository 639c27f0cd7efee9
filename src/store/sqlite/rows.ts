/** Row shapes of the embedded store and their mapping to the port's types. */
import type { Resource } from '@medplum/fhirtypes';
import type { StoredVersion } from '../port';

export interface VersionRow {
  seq: number;
  type: string;
  id: string;
  version: number;
  last_updated: string;
  deleted: number;
  method: string;
  custodian: string | null;
  patient: string | null;
  content: string | null;
}

/** Turns a stored row into the port's shape. */
export function rowToVersion(row: VersionRow): StoredVersion {
  const out: StoredVersion = {
    type: row.type,
    id: row.id,
    versionId: String(row.version),
    lastUpdated: row.last_updated,
    deleted: row.deleted === 1,
    method: row.method as StoredVersion['method'],
  };
  if (row.custodian) out.custodian = row.custodian;
  if (row.patient) out.patient = row.patient;
  if (row.content) out.resource = JSON.parse(row.content) as Resource;
  return out;
}
