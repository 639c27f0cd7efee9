/**
 * Typed index values extracted from a resource at write time, one list per parameter type.
 * Stores persist them in the same unit of work as the resource version they describe.
 * Strings are normalised (lower case, accents removed) by `normalizeString`.
 */

export interface TokenRow {
  param: string;
  /** null when the coding/identifier has no system. */
  system: string | null;
  code: string | null;
  /** Normalised display / CodeableConcept.text / Identifier.type.text, for `:text`. */
  text: string | null;
  /** Identifier.type coding, for `:of-type`. */
  typeSystem?: string | null;
  typeCode?: string | null;
}

export interface StringRow {
  param: string;
  /** normalizeString(raw), for default starts-with and :contains. */
  value: string;
  /** As written, for :exact. */
  raw: string;
}

export interface ReferenceRow {
  param: string;
  /** Local references: `Type/id` split, with an optional `_history` version. */
  targetType: string | null;
  targetId: string | null;
  version: string | null;
  /** Absolute URLs not on this server, and canonicals (with `|version` removed). */
  url: string | null;
  /** Reference.identifier, for `:identifier`. */
  idSystem: string | null;
  idValue: string | null;
}

export interface DateRow {
  param: string;
  /** [low, high) as ISO instants in UTC: the range the stored value's precision stands for. */
  low: string;
  high: string;
}

export interface NumberRow {
  param: string;
  value: number;
}

export interface QuantityRow {
  param: string;
  value: number;
  system: string | null;
  code: string | null;
  unit: string | null;
  /** The value and code converted to the canonical UCUM unit, when the unit is convertible. */
  canonicalValue: number | null;
  canonicalCode: string | null;
}

export interface UriRow {
  param: string;
  value: string;
}

/** A composite of two components: the first a token, the second one of token/quantity/date/string. */
export interface CompositeRow {
  param: string;
  system: string | null;
  code: string | null;
  second: 'token' | 'quantity' | 'date' | 'string';
  /** token: system/code; quantity: value/system/code as written (+ canonical when convertible); date: low/high; string: text. */
  secondSystem: string | null;
  secondCode: string | null;
  secondValue: number | null;
  secondCanonicalValue: number | null;
  secondCanonicalCode: string | null;
  secondLow: string | null;
  secondHigh: string | null;
  secondText: string | null;
}

export interface IndexRows {
  token: TokenRow[];
  string: StringRow[];
  reference: ReferenceRow[];
  date: DateRow[];
  number: NumberRow[];
  quantity: QuantityRow[];
  uri: UriRow[];
  composite: CompositeRow[];
}

/** An empty set of rows. */
export function emptyRows(): IndexRows {
  return { token: [], string: [], reference: [], date: [], number: [], quantity: [], uri: [], composite: [] };
}

// Displays and texts repeat across resources (the same codes, labels and units), and NFKD plus two
// regular expressions cost more than a lookup; short strings only, and the table starts over when full.
const NORMALIZED = new Map<string, string>();
const NORMALIZED_MAX = 4096;

/** Lower case, accents and other combining marks removed, whitespace collapsed (FHIR string search). */
export function normalizeString(s: string): string {
  if (s.length > 128) return normalize(s);
  let n = NORMALIZED.get(s);
  if (n === undefined) {
    if (NORMALIZED.size >= NORMALIZED_MAX) NORMALIZED.clear();
    NORMALIZED.set(s, (n = normalize(s)));
  }
  return n;
}

function normalize(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}
