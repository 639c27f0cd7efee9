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
import { normalizeString, type CompositeRow, type IndexRows } from './index-rows';
import { RowSink as Sink } from './row-sink';
import { isObj, quantitiesOf, rangesOf, referencedType, referencesOf, stringsOf, stripVersion, tokensOf } from './extract-values';
import type { ParamDef } from './registry';

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
  /**
   * The resource elements the fast path starts from (`code` for `Observation.code | …`): when the
   * resource has none of them, directly or as a choice (`valueQuantity` for `value`), the parameter
   * has no values and is skipped. Undefined when that cannot be known (Medplum's engine, a term
   * that does not start with an element, or a presence test, which is `false` when absent).
   */
  gate?: string[];
}

interface Ctx {
  baseUrl: string | undefined;
  fhirpathOnly: boolean;
}

// The store keeps these as columns on the resource row.
const COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);
const SECOND_TYPES = new Set<string>(['token', 'quantity', 'date', 'string']);
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
/** The last parameter list seen per resource type, with its compiled entries (the registry hands out copies). */
const planCache = new Map<string, { params: ParamDef[]; plan: [ParamDef, Compiled][] }>();
const SHORT_LIST = 4;
let lastBase: { raw: string | undefined; trimmed: string | undefined } = { raw: undefined, trimmed: undefined };

/**
 * Evaluates each parameter on the resource and returns its index rows, deduplicated.
 * http://hl7.org/fhir/R4/search.html#ptypes
 */
export function extractIndexRows(resource: Resource, params: ParamDef[], opts: ExtractOptions = {}): IndexRows {
  const sink = new Sink();
  const root: Item = { type: resource.resourceType, value: resource, known: true };
  if (lastBase.raw !== opts.baseUrl) lastBase = { raw: opts.baseUrl, trimmed: opts.baseUrl?.replace(/\/+$/, '') };
  const ctx: Ctx = { baseUrl: lastBase.trimmed, fhirpathOnly: !!opts.fhirpathOnly };
  let present: Set<string> | undefined;
  for (const [def, c] of planOf(resource.resourceType, params)) {
    try {
      if (c.gate && !ctx.fhirpathOnly && !c.gate.some((name) => (present ??= presentNames(resource)).has(name))) continue;
      const values = def.compute ? computed(def.compute(resource)) : evaluate(c.expr, root, ctx);
      if (c.components) extractComposite(def.code, c.components, values, sink, ctx);
      else for (const v of values) for (const row of CONVERT[def.type as Kind](v, ctx)) sink.push(def.type as Kind, { param: def.code, ...row });
    } catch (err) {
      if (opts.strict) throw err;
    }
  }
  return sink.rows;
}

function computed(value: string | undefined): Item[] {
  return value === undefined ? [] : [{ type: 'date', value }];
}

/**
 * The parameters that can give rows, compiled. A type's full list (the indexer's) is kept and reused
 * while the caller passes the same definitions; short lists (patientOf asks one parameter at a
 * time, between two full ones) are built each time so they do not evict it.
 */
function planOf(type: string, params: ParamDef[]): [ParamDef, Compiled][] {
  const short = params.length <= SHORT_LIST;
  const cached = short ? undefined : planCache.get(type);
  if (cached && cached.params.length === params.length && cached.params.every((d, i) => d === params[i])) return cached.plan;
  const plan: [ParamDef, Compiled][] = [];
  for (const def of params) {
    const c = compile(def);
    if (c) plan.push([def, c]);
  }
  if (!short) planCache.set(type, { params: [...params], plan });
  return plan;
}

/** The element names a resource has, choice elements also by their stem (`valueQuantity` → `value`). */
function presentNames(resource: Resource): Set<string> {
  const names = new Set<string>();
  for (const key in resource) {
    if ((resource as unknown as Obj)[key] === undefined) continue;
    names.add(key);
    // Choice suffixes start with a capital (CHOICE_SUFFIXES); any capital may start one.
    for (let i = 1; i < key.length; i++) {
      const ch = key.charCodeAt(i);
      if (ch >= 65 && ch <= 90 && CHOICE_SUFFIXES.has(key.slice(i))) names.add(key.slice(0, i));
    }
  }
  return names;
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
    const terms = c.expr.fast;
    if (terms && !c.expr.presence && terms.every((t) => t[0]?.k === 'child')) c.gate = [...new Set(terms.map((t) => (t[0] as { name: string }).name))];
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
