/**
 * Write-time extraction of search index rows: each parameter's FHIRPath is evaluated on the resource and
 * the results are turned into rows the stores can query (http://hl7.org/fhir/R4/search.html).
 *
 * Medplum's FHIRPath engine only knows element types when its StructureDefinitions are loaded (2 s and
 * ~64 MB, which nothing else here needs); without them each choice-type or missing-element lookup tries
 * every datatype suffix and an Observation costs 0.3–1 ms. So the plain paths that make up nearly all R4
 * expressions (`A.b.c`, `as T`, `ofType(T)`, `where(x='y')`, `where(resolve() is T)`) run on a small
 * evaluator here, and anything else falls back to Medplum. Values are recognised by shape (a `coding`
 * array means CodeableConcept, and so on), so rows come out the same with or without the schema.
 */
import { evalFhirPathTyped, parseFhirPath, type FhirPathAtom, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { emptyRows, normalizeString, type CompositeRow, type IndexRows } from './index-rows';
import { parseDateRange } from './ranges';
import type { ParamDef } from './registry';
import { toCanonical, UCUM_SYSTEM } from './ucum';

export interface ExtractOptions {
  /** This server's FHIR base URL; absolute references under it are indexed as local ones. */
  baseUrl?: string;
  /** Rethrow instead of skipping a parameter whose evaluation fails, so tests see bugs. */
  strict?: boolean;
  /** Evaluate every expression with Medplum's engine; tests use it to cross-check the fast path. */
  fhirpathOnly?: boolean;
}

type Obj = Record<string, unknown>;
type Kind = Exclude<keyof IndexRows, 'composite'>;
type RowOf<K extends keyof IndexRows> = Omit<IndexRows[K][number], 'param'>;
type Token = RowOf<'token'>;
/** `known` is set when the type came from a choice suffix (`valueQuantity`), the only types a cast can trust. */
type Item = TypedValue & { known?: boolean };
type Step = { k: 'child'; name: string } | { k: 'type' | 'resolve'; type: string } | { k: 'eq'; name: string; value: string };

/** One expression both ways: `fast` is null when it is outside the subset evaluated here. */
interface Expr {
  fast: Step[][] | null;
  atom: FhirPathAtom;
  /** `P.exists() and P != false` (Patient.deceased): a boolean computed from P's values. */
  presence?: boolean;
}

interface Compiled {
  expr: Expr;
  components?: { type: CompositeRow['second']; expr: Expr }[];
}

interface Ctx {
  baseUrl: string | undefined;
  fhirpathOnly: boolean;
}

// The store keeps these as columns on the resource row.
const COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);
const SECOND_TYPES = new Set<string>(['token', 'quantity', 'date', 'string']);
const MIN_INSTANT = '0001-01-01T00:00:00.000Z';
const MAX_INSTANT = '9999-12-31T23:59:59.999Z';
const LOCAL_REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;
const URL_REF_TYPE = /\/([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const NAME_KEYS = ['text', 'family', 'given', 'prefix', 'suffix'];
const ADDRESS_KEYS = ['line', 'city', 'district', 'state', 'postalCode', 'country'];
const NAME_OR_ADDRESS = new Set([...NAME_KEYS, ...ADDRESS_KEYS, 'use', 'type', 'period', 'id', 'extension']);
const PRIMITIVES = new Set([
  'boolean', 'integer', 'string', 'decimal', 'uri', 'url', 'canonical', 'base64Binary', 'instant', 'date', 'dateTime',
  'time', 'code', 'oid', 'id', 'markdown', 'unsignedInt', 'positiveInt', 'uuid',
]);
// Datatypes a choice element can take (http://hl7.org/fhir/R4/datatypes.html#open), keyed by JSON suffix.
// Only these count as choice suffixes, so `classHistory` is not mistaken for a typed `class`.
const CHOICE_SUFFIXES = new Map(
  [
    ...PRIMITIVES, 'Address', 'Age', 'Annotation', 'Attachment', 'CodeableConcept', 'Coding', 'ContactPoint', 'Count',
    'Distance', 'Duration', 'HumanName', 'Identifier', 'Money', 'Period', 'Quantity', 'Range', 'Ratio', 'Reference',
    'SampledData', 'Signature', 'Timing', 'ContactDetail', 'Contributor', 'DataRequirement', 'Expression',
    'ParameterDefinition', 'RelatedArtifact', 'TriggerDefinition', 'UsageContext', 'Dosage', 'Meta',
  ].map((t) => [t[0].toUpperCase() + t.slice(1), t]),
);
const STEP_SYNTAX: [RegExp, (m: RegExpExecArray) => Step | null][] = [
  [/\.where\(\s*resolve\(\)\s+is\s+([A-Za-z]+)\s*\)/y, (m) => ({ k: 'resolve', type: m[1] })],
  [/\.where\(\s*([a-z][A-Za-z0-9]*)\s*=\s*'([^'\\|]*)'\s*\)/y, (m) => ({ k: 'eq', name: m[1], value: m[2] })],
  [/(?:\.(?:as|ofType)\(\s*|\s+as\s+)([A-Za-z]+)\s*\)?/y, (m) => ({ k: 'type', type: fhirTypeName(m[1]) })],
  [/\.([a-z][A-Za-z0-9]*)(?![A-Za-z0-9(])/y, (m) => ({ k: 'child', name: m[1] })],
  // In a linear path `(a as T).b` the parentheses only bind the cast, so closing ones can be dropped.
  [/\s*\)/y, () => null],
];
const compiledCache = new WeakMap<ParamDef, Compiled | null>();

/**
 * Evaluates each parameter on the resource and returns its index rows, deduplicated.
 * http://hl7.org/fhir/R4/search.html#ptypes
 */
export function extractIndexRows(resource: Resource, params: ParamDef[], opts: ExtractOptions = {}): IndexRows {
  const sink = new Sink();
  const root: Item = { type: resource.resourceType, value: resource, known: true };
  const ctx: Ctx = { baseUrl: opts.baseUrl?.replace(/\/+$/, ''), fhirpathOnly: !!opts.fhirpathOnly };
  for (const def of params) {
    try {
      const c = compile(def);
      if (!c) continue;
      const values = evaluate(c.expr, root, ctx);
      if (c.components) extractComposite(def.code, c.components, values, sink, ctx);
      else for (const v of values) for (const row of CONVERT[def.type as Kind](v, ctx)) sink.push(def.type as Kind, { param: def.code, ...row });
    } catch (err) {
      if (opts.strict) throw err;
    }
  }
  return sink.rows;
}

const CONVERT: { [K in Kind]: (v: Item, ctx: Ctx) => RowOf<K>[] } = {
  token: (v) => tokensOf(v.value),
  string: (v) => stringsOf(v).map((raw) => ({ value: normalizeString(raw), raw })).filter((r) => r.value),
  reference: (v, ctx) => referencesOf(v.value, ctx.baseUrl),
  date: (v) => rangesOf(v).map(([low, high]) => ({ low, high })),
  number: (v) => (typeof v.value === 'number' && Number.isFinite(v.value) ? [{ value: v.value }] : []),
  quantity: (v) => quantitiesOf(v.value),
  uri: (v) => (typeof v.value === 'string' && v.value ? [{ value: stripVersion(v.value) }] : []),
};

/** http://hl7.org/fhir/R4/search.html#composite */
function extractComposite(param: string, components: NonNullable<Compiled['components']>, values: Item[], sink: Sink, ctx: Ctx): void {
  const [first, second] = components;
  const none = {
    secondSystem: null, secondCode: null, secondValue: null, secondCanonicalValue: null, secondCanonicalCode: null,
    secondLow: null, secondHigh: null, secondText: null,
  };
  for (const v of values) {
    const firsts = evaluate(first.expr, v, ctx).flatMap((x) => tokensOf(x.value)).filter((t) => t.code !== null);
    if (!firsts.length) continue;
    const seconds: Omit<CompositeRow, 'param' | 'system' | 'code' | 'second'>[] = [];
    for (const x of evaluate(second.expr, v, ctx)) {
      if (second.type === 'token') {
        for (const t of tokensOf(x.value)) if (t.code !== null) seconds.push({ ...none, secondSystem: t.system, secondCode: t.code });
      } else if (second.type === 'quantity') {
        for (const q of quantitiesOf(x.value)) {
          seconds.push({
            ...none,
            secondValue: q.value,
            secondSystem: q.system,
            secondCode: q.code,
            secondCanonicalValue: q.canonicalValue,
            secondCanonicalCode: q.canonicalCode,
          });
        }
      } else if (second.type === 'date') {
        for (const [low, high] of rangesOf(x)) seconds.push({ ...none, secondLow: low, secondHigh: high });
      } else {
        for (const text of stringsOf(x).map(normalizeString)) if (text) seconds.push({ ...none, secondText: text });
      }
    }
    for (const f of firsts) for (const s of seconds) sink.push('composite', { param, system: f.system, code: f.code, second: second.type, ...s });
  }
}

/** Rows per kind of index, skipping exact repeats (the same code under `code` and `combo-code` is two rows, not four). */
class Sink {
  readonly rows = emptyRows();
  private readonly seen = new Set<string>();

  push<K extends keyof IndexRows>(kind: K, row: IndexRows[K][number]): void {
    let key: string = kind;
    // NUL cannot occur in FHIR strings, and \u0001 keeps null apart from the text 'null'.
    for (const field in row) key += '\u0000' + (row[field as keyof typeof row] ?? '\u0001');
    if (this.seen.has(key)) return;
    this.seen.add(key);
    (this.rows[kind] as IndexRows[K][number][]).push(row);
  }
}

// ---- evaluation ----

function evaluate(expr: Expr, item: Item, ctx: Ctx): Item[] {
  const fast = expr.fast && !ctx.fhirpathOnly ? runFast(expr.fast, item, ctx.baseUrl) : undefined;
  if (fast && expr.presence) return [{ type: 'boolean', value: fast.some((v) => v.value !== false) }];
  return fast ?? evalFhirPathTyped(expr.atom, [item]);
}

/** Runs compiled union terms; undefined when a cast meets a value of unknown type, so Medplum must decide. */
function runFast(terms: Step[][], root: Item, baseUrl: string | undefined): Item[] | undefined {
  const out: Item[] = [];
  for (const steps of terms) {
    let cur: Item[] = [root];
    for (let i = 0; i < steps.length && cur.length; i++) {
      const st = steps[i];
      const next: Item[] = [];
      for (const it of cur) {
        const v = it.value as unknown;
        if (st.k === 'child') {
          if (isObj(v)) childOf(v, st.name, next);
        } else if (st.k === 'type') {
          if (!it.known) return undefined;
          if (it.type === st.type) next.push(it);
        } else if (st.k === 'eq') {
          if (isObj(v) && v[st.name] === st.value) next.push(it);
        } else if (referencedType(v, baseUrl) === st.type) next.push(it);
      }
      cur = next;
    }
    for (const it of cur) out.push(it);
  }
  return out;
}

function childOf(o: Obj, name: string, out: Item[]): void {
  let v = o[name];
  let choice: string | undefined;
  if (v === undefined) {
    for (const key in o) {
      if (key.length > name.length && key.startsWith(name) && (choice = CHOICE_SUFFIXES.get(key.slice(name.length)))) {
        v = o[key];
        break;
      }
    }
  }
  for (const x of Array.isArray(v) ? v : [v]) {
    if (x === null || x === undefined) continue;
    const guess = typeof x === 'string' ? 'string' : typeof x === 'boolean' ? 'boolean' : typeof x === 'number' ? 'decimal' : 'BackboneElement';
    out.push(choice ? { type: choice, value: x, known: true } : { type: guess, value: x });
  }
}

// ---- compiling expressions (once per ParamDef) ----

function compile(def: ParamDef): Compiled | null {
  let c = compiledCache.get(def);
  if (c !== undefined) return c;
  c = null;
  const comps = def.components;
  const usable = def.type !== 'composite' || (comps?.length === 2 && comps[0].def.type === 'token' && SECOND_TYPES.has(comps[1].def.type));
  if (def.atom && def.expression && !COLUMN_PARAMS.has(def.code) && usable && (def.type as string) !== 'special') {
    c = { expr: compileExpr(def.expression, def.atom, def.base) };
    if (comps) c.components = comps.map((k) => ({ type: k.def.type as CompositeRow['second'], expr: compileExpr(k.expression, k.atom, null) }));
  }
  compiledCache.set(def, c);
  return c;
}

/** `base` is the resource type for parameter expressions, null for composite components (relative paths). */
function compileExpr(expression: string, atom: FhirPathAtom, base: string | null): Expr {
  const presence = /^(.+)\.exists\(\)\s+and\s+(.+?)\s*!=\s*false$/.exec(expression);
  if (presence && presence[1] === presence[2]) return { fast: compileFast(presence[1], base), atom, presence: true };
  return { fast: compileFast(expression, base), atom: reparse(expression, atom) };
}

/**
 * Medplum treats the function form `x.as(T)` as a no-op and matches type names case-sensitively, while the
 * R4 definitions write `value.as(Quantity)` and `value.as(DateTime)`; `ofType` with the FHIR spelling filters.
 * (Its `resolve()` also cannot type absolute URLs; only the fast path handles those in `where(resolve() is T)`.)
 */
function reparse(expression: string, atom: FhirPathAtom): FhirPathAtom {
  const fixed = expression
    .replace(/\.as\(\s*([A-Za-z]+)\s*\)/g, (_, t: string) => `.ofType(${fhirTypeName(t)})`)
    .replace(/\bas\s+([A-Z][A-Za-z]*)\b/g, (_, t: string) => `as ${fhirTypeName(t)}`);
  return fixed === expression ? atom : parseFhirPath(fixed);
}

function compileFast(expression: string, base: string | null): Step[][] | null {
  const parts = expression.split('|').map((p) => p.trim());
  // A `|` inside parentheses or a literal leaves a part unbalanced; such expressions go to Medplum.
  if (parts.some((p) => !p || p.split('(').length !== p.split(')').length)) return null;
  const terms: Step[][] = [];
  for (const part of parts) {
    let s = part.replace(/^\(+\s*/, '');
    let pos = 0;
    if (base) {
      const head = /^[A-Za-z]+/.exec(s)?.[0];
      if (head !== base && head !== 'Resource' && head !== 'DomainResource') return null;
      pos = head.length;
    } else s = '.' + s;
    const steps: Step[] = [];
    while (pos < s.length) {
      const rule = STEP_SYNTAX.find(([re]) => ((re.lastIndex = pos), re.test(s)));
      if (!rule) return null;
      rule[0].lastIndex = pos;
      const step = rule[1](rule[0].exec(s)!);
      pos = rule[0].lastIndex;
      if (step) steps.push(step);
    }
    terms.push(steps);
  }
  return terms;
}

function fhirTypeName(t: string): string {
  const lower = t[0].toLowerCase() + t.slice(1);
  return PRIMITIVES.has(lower) ? lower : t;
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

function token(system: string | null, code: string | null, text: string | null, type?: Obj): Token {
  const first = type && Array.isArray(type.coding) && isObj(type.coding[0]) ? type.coding[0] : undefined;
  return { system, code, text, typeSystem: first ? str(first.system) : null, typeCode: first ? str(first.code) : null };
}

/** http://hl7.org/fhir/R4/search.html#token */
function tokensOf(v: unknown): Token[] {
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
function stringsOf(tv: TypedValue): string[] {
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
function referencesOf(v: unknown, baseUrl: string | undefined): RowOf<'reference'>[] {
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
function referencedType(v: unknown, baseUrl: string | undefined): string | undefined {
  const ref = typeof v === 'string' ? v : isObj(v) ? str(v.reference) : null;
  const p = ref ? parseReference(ref, baseUrl) : undefined;
  if (p && 'type' in p) return p.type;
  const fromUrl = p ? URL_REF_TYPE.exec(p.url)?.[1] : undefined;
  return fromUrl ?? (isObj(v) ? (str(v.type) ?? undefined) : undefined);
}

/** http://hl7.org/fhir/R4/search.html#date */
function rangesOf(tv: TypedValue): [string, string][] {
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
function quantitiesOf(v: unknown): RowOf<'quantity'>[] {
  if (!isObj(v) || typeof v.value !== 'number' || !Number.isFinite(v.value)) return [];
  const value = v.value;
  // Money is searched as a quantity whose code is the ISO 4217 currency.
  if (typeof v.currency === 'string') return [{ value, system: 'urn:iso:std:iso:4217', code: v.currency, unit: null, canonicalValue: null, canonicalCode: null }];
  const [system, code] = [str(v.system), str(v.code)];
  const canonical = system === UCUM_SYSTEM && code !== null ? toCanonical(value, code) : undefined;
  return [{ value, system, code, unit: str(v.unit), canonicalValue: canonical?.value ?? null, canonicalCode: canonical?.code ?? null }];
}

// `|` is not a legal URI character (RFC 3986), so in uri/canonical values it only ever marks a version.
function stripVersion(uri: string): string {
  const bar = uri.indexOf('|');
  return bar >= 0 ? uri.slice(0, bar) : uri;
}
