/**
 * Write-time extraction of search index rows: each parameter's FHIRPath is evaluated on the resource
 * and the typed results are turned into rows the stores can query (http://hl7.org/fhir/R4/search.html).
 *
 * Medplum only knows FHIR types when its StructureDefinitions are loaded, which this server does not
 * need elsewhere, so values are recognised by shape (a `coding` array means CodeableConcept, and so on)
 * and the rows come out the same whether or not the schema is loaded.
 */
import { evalFhirPathTyped, parseFhirPath, toTypedValue, type FhirPathAtom, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { emptyRows, normalizeString, type CompositeRow, type IndexRows, type QuantityRow, type ReferenceRow, type TokenRow } from './index-rows';
import { parseDateRange } from './ranges';
import type { ParamDef } from './registry';
import { toCanonical, UCUM_SYSTEM } from './ucum';

export interface ExtractOptions {
  /** This server's FHIR base URL; absolute references under it are indexed as local ones. */
  baseUrl?: string;
  /** Rethrow instead of skipping a parameter whose evaluation fails, so tests see bugs. */
  strict?: boolean;
}

type Obj = Record<string, unknown>;
type Token = Omit<TokenRow, 'param'>;

interface Term {
  atom: FhirPathAtom;
  /** From a trailing `.where(resolve() is X)`, applied here because Medplum cannot resolve absolute URLs. */
  resolveType?: string;
}

interface Compiled {
  terms: Term[];
  /** Top-level elements the expression starts from; null when the expression may yield values without them. */
  heads: string[] | null;
  components?: { type: ParamDef['type']; atom: FhirPathAtom }[];
}

// The store keeps these as columns on the resource row.
const COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);
const MIN_INSTANT = '0001-01-01T00:00:00.000Z';
const MAX_INSTANT = '9999-12-31T23:59:59.999Z';
const MONEY_SYSTEM = 'urn:iso:std:iso:4217';
const LOCAL_REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;
const URL_REF_TYPE = /\/([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const PRIMITIVES = new Set([
  'boolean', 'integer', 'string', 'decimal', 'uri', 'url', 'canonical', 'base64Binary', 'instant', 'date', 'dateTime',
  'time', 'code', 'oid', 'id', 'markdown', 'unsignedInt', 'positiveInt', 'uuid',
]);
const NAME_KEYS = ['text', 'family', 'given', 'prefix', 'suffix'];
const ADDRESS_KEYS = ['text', 'line', 'city', 'district', 'state', 'postalCode', 'country'];
const NAME_OR_ADDRESS = new Set([...NAME_KEYS, ...ADDRESS_KEYS, 'use', 'type', 'period', 'id', 'extension']);
const HEAD = /^\(*\s*([A-Za-z]+)\.([a-z][A-Za-z0-9]*)/;
// After the head: element steps, type casts, resolve() and emptied where(); none of these can invent a
// value from an empty collection, unlike exists(), `and`, `!=` or literals.
const SAFE_REST = /^(?:\.[a-z][A-Za-z0-9]*|\.where\(\)|\.resolve\(\)|\.(?:as|ofType)\([A-Za-z]+\)|\s+(?:as|is)\s+[A-Za-z]+|\s*\))*$/;

// CompositeRow can hold a token first component and one of these second.
const SECOND_TYPES = new Set<string>(['token', 'quantity', 'date', 'string']);

const compiledCache = new WeakMap<ParamDef, Compiled | null>();

/**
 * Evaluates each parameter on the resource and returns its index rows, deduplicated.
 * http://hl7.org/fhir/R4/search.html#ptypes
 */
export function extractIndexRows(resource: Resource, params: ParamDef[], opts: ExtractOptions = {}): IndexRows {
  const sink = new Sink();
  const input = [toTypedValue(resource)];
  const baseUrl = opts.baseUrl?.replace(/\/+$/, '');
  let present: Set<string> | undefined;
  for (const def of params) {
    const c = compile(def);
    if (!c) continue;
    if (c.heads) {
      present ??= presentElements(resource);
      if (!c.heads.some((h) => present!.has(h))) continue;
    }
    try {
      extractParam(def, c, input, sink, baseUrl);
    } catch (err) {
      if (opts.strict) throw err;
    }
  }
  return sink.rows;
}

function extractParam(def: ParamDef, c: Compiled, input: TypedValue[], sink: Sink, baseUrl: string | undefined): void {
  const param = def.code;
  const values = evaluate(c.terms, input, baseUrl);
  switch (def.type) {
    case 'token':
      for (const v of values) for (const t of tokensOf(v.value)) sink.push('token', { param, ...t });
      return;
    case 'string':
      for (const v of values) for (const raw of stringsOf(v)) sink.push('string', { param, value: normalizeString(raw), raw });
      return;
    case 'reference':
      for (const v of values) {
        const r = referenceOf(v.value, baseUrl);
        if (r) sink.push('reference', { param, ...r });
      }
      return;
    case 'date':
      for (const v of values) for (const [low, high] of rangesOf(v)) sink.push('date', { param, low, high });
      return;
    case 'number':
      for (const v of values) if (typeof v.value === 'number' && Number.isFinite(v.value)) sink.push('number', { param, value: v.value });
      return;
    case 'quantity':
      for (const v of values) {
        const q = quantityOf(v.value);
        if (q) sink.push('quantity', { param, ...q });
      }
      return;
    case 'uri':
      for (const v of values) if (typeof v.value === 'string' && v.value) sink.push('uri', { param, value: stripVersion(v.value) });
      return;
    case 'composite':
      extractComposite(param, c, values, sink);
      return;
  }
}

function extractComposite(param: string, c: Compiled, values: TypedValue[], sink: Sink): void {
  const [first, second] = c.components!;
  for (const v of values) {
    const firsts = evalFhirPathTyped(first.atom, [v]).flatMap((x) => tokensOf(x.value)).filter((t) => t.code !== null);
    if (!firsts.length) continue;
    const kind = second.type as CompositeRow['second'];
    const seconds: Omit<CompositeRow, 'param' | 'system' | 'code' | 'second'>[] = [];
    const none = { secondSystem: null, secondCode: null, secondValue: null, secondLow: null, secondHigh: null, secondText: null };
    for (const x of evalFhirPathTyped(second.atom, [v])) {
      if (second.type === 'token') {
        for (const t of tokensOf(x.value)) if (t.code !== null) seconds.push({ ...none, secondSystem: t.system, secondCode: t.code });
      } else if (second.type === 'quantity') {
        const q = quantityOf(x.value);
        if (q && q.canonicalCode !== null) seconds.push({ ...none, secondValue: q.canonicalValue, secondSystem: UCUM_SYSTEM, secondCode: q.canonicalCode });
        else if (q) seconds.push({ ...none, secondValue: q.value, secondSystem: q.system, secondCode: q.code });
      } else if (second.type === 'date') {
        for (const [low, high] of rangesOf(x)) seconds.push({ ...none, secondLow: low, secondHigh: high });
      } else {
        for (const raw of stringsOf(x)) seconds.push({ ...none, secondText: normalizeString(raw) });
      }
    }
    for (const f of firsts) for (const s of seconds) sink.push('composite', { param, system: f.system, code: f.code, second: kind, ...s });
  }
}

function evaluate(terms: Term[], input: TypedValue[], baseUrl: string | undefined): TypedValue[] {
  if (terms.length === 1 && !terms[0].resolveType) return evalFhirPathTyped(terms[0].atom, input);
  const out: TypedValue[] = [];
  for (const term of terms) {
    for (const v of evalFhirPathTyped(term.atom, input)) {
      if (!term.resolveType || referencedType(v.value, baseUrl) === term.resolveType) out.push(v);
    }
  }
  return out;
}

/** Rows for one kind of index, skipping exact repeats (e.g. the same code under `code` and `combo-code`). */
class Sink {
  readonly rows = emptyRows();
  private readonly seen = new Set<string>();

  push<K extends keyof IndexRows>(kind: K, row: IndexRows[K][number]): void {
    const key = kind + JSON.stringify(row);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    (this.rows[kind] as IndexRows[K][number][]).push(row);
  }
}

// ---- compiling parameter expressions (once per ParamDef) ----

function compile(def: ParamDef): Compiled | null {
  let c = compiledCache.get(def);
  if (c !== undefined) return c;
  c = null;
  if (def.atom && def.expression && !COLUMN_PARAMS.has(def.code)) {
    const comps = def.components;
    const usable = def.type !== 'composite' || (comps?.length === 2 && comps[0].def.type === 'token' && SECOND_TYPES.has(comps[1].def.type));
    if (usable) {
      c = { terms: compileTerms(def.expression, def.atom), heads: topElements(def.base, def.expression) };
      if (comps) c.components = comps.map((k) => ({ type: k.def.type, atom: reparse(k.expression, k.atom) }));
    }
  }
  compiledCache.set(def, c);
  return c;
}

function compileTerms(expression: string, atom: FhirPathAtom): Term[] {
  const parts = splitUnion(expression);
  const resolving = parts.map((p) => /^(.*)\.where\(\s*resolve\(\)\s+is\s+([A-Za-z]+)\s*\)$/.exec(p.trim()));
  if (!resolving.some(Boolean)) return [{ atom: reparse(expression, atom) }];
  return parts.map((p, i) => {
    const m = resolving[i];
    return m ? { atom: reparse(m[1], undefined), resolveType: m[2] } : { atom: reparse(p, undefined) };
  });
}

/**
 * Medplum treats the function form `x.as(T)` as a no-op and matches type names case-sensitively, while the
 * R4 definitions write `value.as(Quantity)` and `value.as(DateTime)`; `ofType` with the FHIR spelling filters.
 */
function reparse(expression: string, atom: FhirPathAtom | undefined): FhirPathAtom {
  const fixed = expression
    .replace(/\.as\(\s*([A-Za-z]+)\s*\)/g, (_, t: string) => `.ofType(${fhirTypeName(t)})`)
    .replace(/\bas\s+([A-Z][A-Za-z]*)\b/g, (_, t: string) => `as ${fhirTypeName(t)}`);
  if (fixed === expression && atom) return atom;
  return parseFhirPath(fixed);
}

function fhirTypeName(t: string): string {
  const lower = t[0].toLowerCase() + t.slice(1);
  return PRIMITIVES.has(lower) ? lower : t;
}

/** Splits on top-level `|`, outside parentheses and string literals. */
function splitUnion(expression: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (ch === "'") quote = !quote;
    else if (!quote && ch === '(') depth++;
    else if (!quote && ch === ')') depth--;
    else if (!quote && depth === 0 && ch === '|') {
      out.push(expression.slice(start, i));
      start = i + 1;
    }
  }
  out.push(expression.slice(start));
  return out.map((s) => s.trim()).filter(Boolean);
}

/** The first element name of every union term, or null if any term is not a plain path from the resource. */
function topElements(base: string, expression: string): string[] | null {
  const heads: string[] = [];
  for (const term of splitUnion(expression)) {
    const m = HEAD.exec(term);
    if (!m || (m[1] !== base && m[1] !== 'Resource' && m[1] !== 'DomainResource')) return null;
    if (!SAFE_REST.test(emptyWhereClauses(term.slice(m[0].length)))) return null;
    heads.push(m[2]);
  }
  return heads.length ? heads : null;
}

/** `a.where(system='x').b` → `a.where().b`: a filter cannot produce values from nothing. */
function emptyWhereClauses(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('.where(', i)) {
      let depth = 1;
      let quote = false;
      let j = i + 7;
      for (; j < s.length && depth > 0; j++) {
        if (s[j] === "'") quote = !quote;
        else if (!quote && s[j] === '(') depth++;
        else if (!quote && s[j] === ')') depth--;
      }
      out += '.where()';
      i = j;
    } else out += s[i++];
  }
  return out;
}

/** JSON keys of the resource plus the stems of choice elements (`valueQuantity` → `value`). */
function presentElements(resource: Resource): Set<string> {
  const names = new Set<string>();
  for (const key of Object.keys(resource)) {
    // `_birthDate` carries extensions of a primitive; counting it as present only costs an evaluation.
    const k = key.charCodeAt(0) === 95 ? key.slice(1) : key;
    names.add(k);
    for (let i = 1; i < k.length; i++) {
      const ch = k.charCodeAt(i);
      if (ch >= 65 && ch <= 90) names.add(k.slice(0, i));
    }
  }
  return names;
}

// ---- value conversion, by shape ----

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function normText(v: unknown): string | null {
  const s = str(v);
  return s === null ? null : normalizeString(s) || null;
}

function token(system: string | null, code: string | null, text: string | null, typeSystem: string | null = null, typeCode: string | null = null): Token {
  return { system, code, text, typeSystem, typeCode };
}

/** http://hl7.org/fhir/R4/search.html#token */
function tokensOf(v: unknown): Token[] {
  if (typeof v === 'string') return v ? [token(null, v, null)] : [];
  if (typeof v === 'boolean') return [token(null, String(v), null)];
  if (typeof v === 'number') return Number.isFinite(v) ? [token(null, String(v), null)] : [];
  if (!isObj(v)) return [];
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
  if (typeof v.value === 'string') {
    // Identifier and ContactPoint both put the searchable value in `value`; only Identifier has a type.
    const type = isObj(v.type) ? v.type : undefined;
    const first = type && Array.isArray(type.coding) && isObj(type.coding[0]) ? type.coding[0] : undefined;
    const code = str(v.value);
    const text = normText(type?.text);
    if (code === null && text === null) return [];
    return [token(str(v.system), code, text, first ? str(first.system) : null, first ? str(first.code) : null)];
  }
  const code = str(v.code);
  const text = normText(v.display);
  return code !== null || text !== null ? [token(str(v.system), code, text)] : [];
}

/** http://hl7.org/fhir/R4/search.html#string */
function stringsOf(tv: TypedValue): string[] {
  const v: unknown = tv.value;
  if (typeof v === 'string') return normalizeString(v) ? [v] : [];
  if (!isObj(v)) return [];
  const out: string[] = [];
  const named = tv.type === 'HumanName' || tv.type === 'Address' || Object.keys(v).every((k) => NAME_OR_ADDRESS.has(k));
  if (named) {
    for (const key of [...NAME_KEYS, ...ADDRESS_KEYS.slice(1)]) {
      const f = v[key];
      for (const s of Array.isArray(f) ? f : [f]) if (typeof s === 'string') out.push(s);
    }
  } else collectLeaves(v, out);
  return out.filter((s) => normalizeString(s) !== '');
}

function collectLeaves(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) collectLeaves(x, out);
  else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) if (k !== 'extension' && k !== 'modifierExtension' && k !== 'id') collectLeaves(x, out);
  }
}

type Parsed = { type: string; id: string; version: string | null } | { url: string } | undefined;

function parseReference(ref: string, baseUrl: string | undefined): Parsed {
  if (ref.startsWith('#')) return undefined;
  const local = baseUrl && ref.startsWith(baseUrl + '/') ? ref.slice(baseUrl.length + 1) : ref;
  const m = LOCAL_REF.exec(local);
  if (m) return { type: m[1], id: m[2], version: m[3] ?? null };
  return ABSOLUTE.test(ref) ? { url: ref } : undefined;
}

/** http://hl7.org/fhir/R4/search.html#reference */
function referenceOf(v: unknown, baseUrl: string | undefined): Omit<ReferenceRow, 'param'> | undefined {
  const row = { targetType: null as string | null, targetId: null as string | null, version: null as string | null, url: null as string | null, idSystem: null as string | null, idValue: null as string | null };
  if (typeof v === 'string') {
    // canonical and uri elements: searched by URL, and `url|version` is matched on the URL alone.
    if (!v || v.startsWith('#')) return undefined;
    row.url = stripVersion(v);
    return row;
  }
  if (!isObj(v)) return undefined;
  const ref = str(v.reference);
  const p = ref ? parseReference(ref, baseUrl) : undefined;
  if (p && 'url' in p) row.url = p.url;
  else if (p) [row.targetType, row.targetId, row.version] = [p.type, p.id, p.version];
  if (isObj(v.identifier) && str(v.identifier.value) !== null) {
    row.idSystem = str(v.identifier.system);
    row.idValue = str(v.identifier.value);
  }
  return row.targetId !== null || row.url !== null || row.idValue !== null ? row : undefined;
}

/** What `resolve() is X` would see: the type in the reference, else Reference.type. */
function referencedType(v: unknown, baseUrl: string | undefined): string | undefined {
  if (typeof v === 'string') {
    const p = parseReference(v, baseUrl);
    return p && 'type' in p ? p.type : undefined;
  }
  if (!isObj(v)) return undefined;
  const ref = str(v.reference);
  const p = ref ? parseReference(ref, baseUrl) : undefined;
  if (p && 'type' in p) return p.type;
  if (p && 'url' in p) {
    const m = URL_REF_TYPE.exec(p.url);
    if (m) return m[1];
  }
  return str(v.type) ?? undefined;
}

/** http://hl7.org/fhir/R4/search.html#date */
function rangesOf(tv: TypedValue): [string, string][] {
  const v: unknown = tv.value;
  if (typeof v === 'string') {
    const r = parseDateRange(v);
    return r ? [[r.low, r.high]] : [];
  }
  if (!isObj(v)) return [];
  if (tv.type === 'Timing' || 'event' in v || 'repeat' in v) {
    const out: [string, string][] = [];
    for (const e of Array.isArray(v.event) ? v.event : []) {
      const r = typeof e === 'string' ? parseDateRange(e) : undefined;
      if (r) out.push([r.low, r.high]);
    }
    const bounds = isObj(v.repeat) ? v.repeat.boundsPeriod : undefined;
    const p = isObj(bounds) ? periodRange(bounds) : undefined;
    if (p) out.push(p);
    return out;
  }
  const p = periodRange(v);
  return p ? [p] : [];
}

function periodRange(v: Obj): [string, string] | undefined {
  const start = str(v.start);
  const end = str(v.end);
  if (start === null && end === null) return undefined;
  const low = start === null ? MIN_INSTANT : parseDateRange(start)?.low;
  const high = end === null ? MAX_INSTANT : parseDateRange(end)?.high;
  return low && high ? [low, high] : undefined;
}

/** http://hl7.org/fhir/R4/search.html#quantity */
function quantityOf(v: unknown): Omit<QuantityRow, 'param'> | undefined {
  if (!isObj(v) || typeof v.value !== 'number' || !Number.isFinite(v.value)) return undefined;
  if (typeof v.currency === 'string') {
    return { value: v.value, system: MONEY_SYSTEM, code: v.currency, unit: null, canonicalValue: null, canonicalCode: null };
  }
  const system = str(v.system);
  const code = str(v.code);
  const canonical = system === UCUM_SYSTEM && code !== null ? toCanonical(v.value, code) : undefined;
  return {
    value: v.value,
    system,
    code,
    unit: str(v.unit),
    canonicalValue: canonical?.value ?? null,
    canonicalCode: canonical?.code ?? null,
  };
}

// `|` is not a legal URI character (RFC 3986), so in uri/canonical values it only ever marks a version.
function stripVersion(uri: string): string {
  const bar = uri.indexOf('|');
  return bar >= 0 ? uri.slice(0, bar) : uri;
}
