/**
 * Index values from FHIR values, recognised by shape (a `coding` array means CodeableConcept, and
 * so on), so rows come out the same whether or not the element's type is known
 * (http://hl7.org/fhir/R4/search.html#ptypes). Used by extract.ts.
 */
import type { TypedValue } from '@medplum/core';
import { normalizeString, type IndexRows } from './index-rows';
import { parseDateRange } from './ranges';
import { toCanonical, UCUM_SYSTEM } from './ucum';

type Obj = Record<string, unknown>;
type RowOf<K extends keyof IndexRows> = Omit<IndexRows[K][number], 'param'>;
type Token = RowOf<'token'>;

const MIN_INSTANT = '0001-01-01T00:00:00.000Z';
const MAX_INSTANT = '9999-12-31T23:59:59.999Z';
const LOCAL_REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;
const URL_REF_TYPE = /\/([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const NAME_KEYS = ['text', 'family', 'given', 'prefix', 'suffix'];
const ADDRESS_KEYS = ['line', 'city', 'district', 'state', 'postalCode', 'country'];
const NAME_OR_ADDRESS = new Set([...NAME_KEYS, ...ADDRESS_KEYS, 'use', 'type', 'period', 'id', 'extension']);

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

export function normText(v: unknown): string | null {
  const s = str(v);
  return s === null ? null : normalizeString(s) || null;
}

function token(system: string | null, code: string | null, text: string | null, type?: Obj): Token {
  const first = type && Array.isArray(type.coding) && isObj(type.coding[0]) ? type.coding[0] : undefined;
  return { system, code, text, typeSystem: first ? str(first.system) : null, typeCode: first ? str(first.code) : null };
}

/** http://hl7.org/fhir/R4/search.html#token */
export function tokensOf(v: unknown): Token[] {
  if (typeof v === 'string') return v ? [token(null, v, null)] : [];
  if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return [token(null, String(v), null)];
  // Quantities and References carry `code`/`display` too, but are not tokens (Group.characteristic.value).
  if (!isObj(v) || typeof v.value === 'number' || 'reference' in v || 'identifier' in v) return [];
  if (Array.isArray(v.coding) || (typeof v.text === 'string' && v.code === undefined && v.value === undefined && v.system === undefined)) {
    const ccText = normText(v.text);
    const out: Token[] = [];
    for (const coding of Array.isArray(v.coding) ? v.coding : []) {
      if (!isObj(coding)) continue;
      const code = str(coding.code);
      const text = ccText ?? normText(coding.display);
      if (code !== null || text !== null) out.push(token(str(coding.system), code, text));
    }
    if (!out.length && ccText !== null) out.push(token(null, null, ccText));
    return out;
  }
  // Identifier and ContactPoint both keep the searchable value in `value`; only Identifier has a type.
  const type = isObj(v.type) ? v.type : undefined;
  const [code, text] = typeof v.value === 'string' ? [str(v.value), normText(type?.text)] : [str(v.code), normText(v.display)];
  return code !== null || text !== null ? [token(str(v.system), code, text, typeof v.value === 'string' ? type : undefined)] : [];
}

/** http://hl7.org/fhir/R4/search.html#string */
export function stringsOf(tv: TypedValue): string[] {
  const v: unknown = tv.value;
  const out: string[] = [];
  if (typeof v === 'string') out.push(v);
  else if (isObj(v) && (tv.type === 'HumanName' || tv.type === 'Address' || Object.keys(v).every((k) => NAME_OR_ADDRESS.has(k)))) {
    for (const key of [...NAME_KEYS, ...ADDRESS_KEYS]) {
      for (const s of Array.isArray(v[key]) ? (v[key] as unknown[]) : [v[key]]) if (typeof s === 'string') out.push(s);
    }
  } else if (isObj(v)) collectLeaves(v, out);
  return out;
}

function collectLeaves(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) collectLeaves(x, out);
  else if (isObj(v)) for (const k in v) if (k !== 'extension' && k !== 'modifierExtension' && k !== 'id') collectLeaves(v[k], out);
}

function parseReference(ref: string, baseUrl: string | undefined): { type: string; id: string; version: string | null } | { url: string } | undefined {
  if (ref.startsWith('#')) return undefined;
  const m = LOCAL_REF.exec(baseUrl && ref.startsWith(baseUrl + '/') ? ref.slice(baseUrl.length + 1) : ref);
  if (m) return { type: m[1], id: m[2], version: m[3] ?? null };
  return ABSOLUTE.test(ref) ? { url: ref } : undefined;
}

/** http://hl7.org/fhir/R4/search.html#reference */
export function referencesOf(v: unknown, baseUrl: string | undefined): RowOf<'reference'>[] {
  const row: RowOf<'reference'> = { targetType: null, targetId: null, version: null, url: null, idSystem: null, idValue: null };
  if (typeof v === 'string') {
    // canonical and uri elements: searched by URL, and `url|version` is matched on the URL alone.
    if (v && !v.startsWith('#')) row.url = stripVersion(v);
  } else if (isObj(v)) {
    const p = str(v.reference) ? parseReference(v.reference as string, baseUrl) : undefined;
    if (p && 'url' in p) row.url = p.url;
    else if (p) [row.targetType, row.targetId, row.version] = [p.type, p.id, p.version];
    if (isObj(v.identifier) && str(v.identifier.value) !== null) [row.idSystem, row.idValue] = [str(v.identifier.system), str(v.identifier.value)];
  }
  return row.targetId !== null || row.url !== null || row.idValue !== null ? [row] : [];
}

/** What `resolve() is T` should see: the type in the reference (local or absolute), else Reference.type. */
export function referencedType(v: unknown, baseUrl: string | undefined): string | undefined {
  const ref = typeof v === 'string' ? v : isObj(v) ? str(v.reference) : null;
  const p = ref ? parseReference(ref, baseUrl) : undefined;
  if (p && 'type' in p) return p.type;
  const fromUrl = p ? URL_REF_TYPE.exec(p.url)?.[1] : undefined;
  return fromUrl ?? (isObj(v) ? (str(v.type) ?? undefined) : undefined);
}

/** http://hl7.org/fhir/R4/search.html#date */
export function rangesOf(tv: TypedValue): [string, string][] {
  const v: unknown = tv.value;
  if (typeof v === 'string') {
    const r = parseDateRange(v);
    return r ? [[r.low, r.high]] : [];
  }
  if (!isObj(v)) return [];
  if (tv.type !== 'Timing' && !('event' in v) && !('repeat' in v)) return periodRange(v);
  const out: [string, string][] = [];
  for (const e of Array.isArray(v.event) ? v.event : []) {
    const r = typeof e === 'string' ? parseDateRange(e) : undefined;
    if (r) out.push([r.low, r.high]);
  }
  const bounds = isObj(v.repeat) ? v.repeat.boundsPeriod : undefined;
  return isObj(bounds) ? [...out, ...periodRange(bounds)] : out;
}

function periodRange(v: Obj): [string, string][] {
  const start = str(v.start);
  const end = str(v.end);
  if (start === null && end === null) return [];
  const low = start === null ? MIN_INSTANT : parseDateRange(start)?.low;
  const high = end === null ? MAX_INSTANT : parseDateRange(end)?.high;
  return low && high ? [[low, high]] : [];
}

/** http://hl7.org/fhir/R4/search.html#quantity */
export function quantitiesOf(v: unknown): RowOf<'quantity'>[] {
  if (!isObj(v) || typeof v.value !== 'number' || !Number.isFinite(v.value)) return [];
  const value = v.value;
  // Money is searched as a quantity whose code is the ISO 4217 currency.
  if (typeof v.currency === 'string') return [{ value, system: 'urn:iso:std:iso:4217', code: v.currency, unit: null, canonicalValue: null, canonicalCode: null }];
  const [system, code] = [str(v.system), str(v.code)];
  const canonical = system === UCUM_SYSTEM && code !== null ? toCanonical(value, code) : undefined;
  return [{ value, system, code, unit: str(v.unit), canonicalValue: canonical?.value ?? null, canonicalCode: canonical?.code ?? null }];
}

// `|` is not a legal URI character (RFC 3986), so in uri/canonical values it only ever marks a version.
export function stripVersion(uri: string): string {
  const bar = uri.indexOf('|');
  return bar >= 0 ? uri.slice(0, bar) : uri;
}
