/**
 * The MongoDB document model (see README.md): one `resources` document per resource holding its
 * current version and its search index values, one `versions` document per version. Pure
 * functions, shared by the store and by the mingo cross-check tests, so both build documents
 * the same way.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { IndexRows } from '../../search/index-rows';
import type { StoredVersion } from '../port';

/** Index values of one resource, grouped by parameter type; `p` is the qualified `Type.code`. */
export interface IdxDoc {
  token: { p: string; s?: string; c?: string; x?: string; ts?: string; tc?: string }[];
  string: { p: string; v: string; r: string }[];
  ref: { p: string; t?: string; i?: string; ver?: string; u?: string; is?: string; iv?: string }[];
  date: { p: string; lo: string; hi: string }[];
  number: { p: string; v: number }[];
  quantity: { p: string; v: number; s?: string; c?: string; u?: string; cv?: number; cc?: string }[];
  uri: { p: string; v: string }[];
  composite: {
    p: string; s?: string; c?: string; k: string; s2?: string; c2?: string; v2?: number; cv2?: number; cc2?: string; lo2?: string; hi2?: string; x2?: string;
  }[];
}

/** What a resource document and a version document both record about a version. */
interface VersionFields {
  type: string;
  id: string;
  version: number;
  lastUpdated: string;
  deleted: boolean;
  method: StoredVersion['method'];
  custodian?: string;
  patient?: string;
  /** The stored JSON exactly as written (the audit chain hashes it); absent when deleted. */
  content?: string;
}

/** A document of the `resources` collection: the current version of one resource. */
export interface ResourceDoc extends VersionFields {
  /** `Type/id`: unique, so two creates of one id can never both commit. */
  _id: string;
  /** Stable numeric key for the resource's life (the seq of its first version): keyset paging tie-breaker. */
  rid: number;
  /** seq of the current version. */
  seq: number;
  /** Organisations where this client is enrolled (Patients only), copied from `enrolments`. */
  enrolled?: string[];
  idx: IdxDoc;
}

/** A document of the `versions` collection: one version of a resource. */
export interface VersionDoc extends VersionFields {
  /** `Type/id/version`. */
  _id: string;
  /** `Type/id`, to join with `resources`. */
  rk: string;
  /** Global write order (system history, paging). */
  seq: number;
}

/** Drops null and undefined members: a missing field matches `{f: null}` just as a null one does. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === null || o[k] === undefined) delete o[k];
  return o;
}

/** An empty set of index values. */
export function emptyIdx(): IdxDoc {
  return { token: [], string: [], ref: [], date: [], number: [], quantity: [], uri: [], composite: [] };
}

/** Index rows (src/search/index-rows.ts) as the `idx` sub-document, parameters qualified by `type`. */
export function idxDoc(type: string, rows: IndexRows): IdxDoc {
  const p = (code: string) => `${type}.${code}`;
  return {
    token: rows.token.map((r) => compact({ p: p(r.param), s: r.system, c: r.code, x: r.text, ts: r.typeSystem, tc: r.typeCode }) as IdxDoc['token'][number]),
    string: rows.string.map((r) => ({ p: p(r.param), v: r.value, r: r.raw })),
    ref: rows.reference.map(
      (r) => compact({ p: p(r.param), t: r.targetType, i: r.targetId, ver: r.version, u: r.url, is: r.idSystem, iv: r.idValue }) as IdxDoc['ref'][number],
    ),
    date: rows.date.map((r) => ({ p: p(r.param), lo: r.low, hi: r.high })),
    number: rows.number.map((r) => ({ p: p(r.param), v: r.value })),
    quantity: rows.quantity.map(
      (r) => compact({ p: p(r.param), v: r.value, s: r.system, c: r.code, u: r.unit, cv: r.canonicalValue, cc: r.canonicalCode }) as IdxDoc['quantity'][number],
    ),
    uri: rows.uri.map((r) => ({ p: p(r.param), v: r.value })),
    composite: rows.composite.map(
      (r) =>
        compact({
          p: p(r.param), s: r.system, c: r.code, k: r.second, s2: r.secondSystem, c2: r.secondCode, v2: r.secondValue,
          cv2: r.secondCanonicalValue, cc2: r.secondCanonicalCode, lo2: r.secondLow, hi2: r.secondHigh, x2: r.secondText,
        }) as IdxDoc['composite'][number],
    ),
  };
}

// Both documents carry these, so that docToVersion reads either one back the same way.
function stateOf(v: StoredVersion, content: string | undefined): Omit<VersionFields, 'type' | 'id' | 'version'> {
  return { lastUpdated: v.lastUpdated, deleted: v.deleted, method: v.method, custodian: v.custodian, patient: v.patient, content };
}

/** The version document for a stored version with its global `seq`. */
export function versionDoc(v: StoredVersion, seq: number, content: string | undefined): VersionDoc {
  return compact({
    _id: `${v.type}/${v.id}/${v.versionId}`,
    rk: `${v.type}/${v.id}`,
    type: v.type,
    id: v.id,
    version: Number(v.versionId),
    seq,
    ...stateOf(v, content),
  });
}

/** The resources document for the current version `v`. */
export function resourceDoc(v: StoredVersion, ids: { rid: number; seq: number }, content: string | undefined, idx: IdxDoc, enrolled?: string[]): ResourceDoc {
  const doc: ResourceDoc = compact({
    _id: `${v.type}/${v.id}`,
    type: v.type,
    id: v.id,
    rid: ids.rid,
    version: Number(v.versionId),
    seq: ids.seq,
    ...stateOf(v, content),
    idx,
  });
  if (v.type === 'Patient') doc.enrolled = enrolled ?? [];
  return doc;
}

/** A stored document (version or current resource) in the port's shape. */
export function docToVersion(d: Pick<VersionDoc, 'type' | 'id' | 'version' | 'lastUpdated' | 'deleted' | 'method' | 'custodian' | 'patient' | 'content'>): StoredVersion {
  const out: StoredVersion = {
    type: d.type,
    id: d.id,
    versionId: String(d.version),
    lastUpdated: d.lastUpdated,
    deleted: d.deleted,
    method: d.method,
  };
  if (d.custodian) out.custodian = d.custodian;
  if (d.patient) out.patient = d.patient;
  if (d.content) out.resource = JSON.parse(d.content) as Resource;
  return out;
}
