/**
 * The storage-neutral search plan: a query string parsed once, validated against the
 * parameter registry, then translated by each store. See src/search/README.md and
 * http://hl7.org/fhir/R4/search.html
 */

/** Comparison prefixes for ordered types (http://hl7.org/fhir/R4/search.html#prefix). */
export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

/** A [low, high) instant range (ISO strings, UTC) that a date value stands for. */
export interface InstantRange {
  low: string;
  high: string;
}

/** `_id` matches one of the listed ids. */
export interface IdPredicate {
  kind: 'id';
  ids: string[];
  not?: boolean;
}

/** `_lastUpdated` compared with a prefix against the range its value stands for. */
export interface LastUpdatedPredicate {
  kind: 'lastUpdated';
  prefix: Prefix;
  range: InstantRange;
}

export type Predicate = IdPredicate | LastUpdatedPredicate;

/** One sort key. `param` is a search parameter code, or `_id` / `_lastUpdated`. */
export interface SortKey {
  param: '_id' | '_lastUpdated';
  descending: boolean;
}

export type TotalMode = 'none' | 'estimate' | 'accurate';

/** What a store executes. Every predicate in `where` must hold (AND). */
export interface SearchPlan {
  /** Resource types searched; type-level search names exactly one. */
  types: string[];
  where: Predicate[];
  sort: SortKey[];
  count: number;
  /** Opaque store cursor from the previous page. */
  cursor?: string;
  total: TotalMode;
  /** `_summary=count`: only the total is wanted. */
  countOnly?: boolean;
}
