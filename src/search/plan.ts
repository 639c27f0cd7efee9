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

export type ParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';

/** A search parameter as resolved for one resource type. */
export interface ParamRef {
  /** Resource type the parameter is evaluated on. */
  base: string;
  code: string;
  type: ParamType;
}

/** A token value: `system|code`, `|code` (system null = must have no system), `system|`, `code`. */
export interface TokenValue {
  /** undefined = any system; null = no system. */
  system?: string | null;
  code?: string;
}

/** A reference value: `Type/id`, `id` (any type), an absolute URL, or an identifier (`:identifier`). */
export interface ReferenceValue {
  targetType?: string;
  id?: string;
  /** Absolute URL or canonical that is not on this server. */
  url?: string;
  identifier?: TokenValue;
}

/** A number or quantity search value: the [low, high) range its written precision stands for. */
export interface NumberValue {
  prefix: Prefix;
  value: number;
  low: number;
  high: number;
}

export interface QuantityValue extends NumberValue {
  system?: string;
  code?: string;
}

/** One alternative value of a parameter, by type. */
export type ParamValue =
  | { type: 'token'; token: TokenValue; text?: string; valueSetUrl?: string; expansion?: TokenValue[]; ofType?: TokenValue & { value: string } }
  | { type: 'string'; value: string }
  | { type: 'reference'; ref: ReferenceValue }
  | { type: 'date'; prefix: Prefix; range: InstantRange }
  | { type: 'number'; num: NumberValue }
  | { type: 'quantity'; qty: QuantityValue }
  | { type: 'uri'; value: string }
  | { type: 'composite'; components: ParamValue[] };

export type Modifier =
  | 'missing' | 'exact' | 'contains' | 'text' | 'not' | 'in' | 'not-in' | 'below' | 'above' | 'of-type' | 'identifier' | 'type';

/** `param[:modifier]=v1,v2`: true when any alternative matches (OR). `:not` negates the whole. */
export interface ParamPredicate {
  kind: 'param';
  param: ParamRef;
  modifier?: Modifier;
  values: ParamValue[];
}

/** `param:missing=true|false`. */
export interface MissingPredicate {
  kind: 'missing';
  param: ParamRef;
  missing: boolean;
}

/** `_id` matches one of the listed ids. */
export interface IdPredicate {
  kind: 'id';
  ids: string[];
  not?: boolean;
}

/** `_lastUpdated` compared with a prefix against the range its value stands for (OR over values). */
export interface LastUpdatedPredicate {
  kind: 'lastUpdated';
  prefix: Prefix;
  range: InstantRange;
}

/** `ref:Type.inner…`: the resource's reference `param` points at a `targetType` resource matching `inner`. */
export interface ChainPredicate {
  kind: 'chain';
  param: ParamRef;
  targetType: string;
  inner: Predicate;
}

/** `_has:Source:param:inner…`: some `sourceType` resource, whose `param` references this one, matches `inner`. */
export interface HasPredicate {
  kind: 'has';
  sourceType: string;
  param: ParamRef;
  inner: Predicate;
}

/** Restricts matches to resources held by one of `custodians` (access policy; see src/policy). */
export interface CustodianPredicate {
  kind: 'custodian';
  custodians: string[];
}

/** Any of the alternatives (used for `_lastUpdated`/`_id`-style OR lists and by the access policy). */
export interface OrPredicate {
  kind: 'or';
  any: Predicate[];
}

/** All of the nested predicates (access policy rules per kind of data). */
export interface AndPredicate {
  kind: 'and';
  all: Predicate[];
}

/** The resource is of one of these types (access policy rules across types). */
export interface TypePredicate {
  kind: 'type';
  types: string[];
}

/** A Patient enrolled at one of these organisations (access policy). */
export interface EnrolledPredicate {
  kind: 'enrolled';
  orgs: string[];
}

/** Resources in the compartment of one of these clients (the store's patient column; access policy). */
export interface PatientPredicate {
  kind: 'patient';
  patients: string[];
}

/** The nested predicate does not hold (consent deny exceptions). */
export interface NotPredicate {
  kind: 'not';
  inner: Predicate;
}

export type Predicate =
  | ParamPredicate
  | MissingPredicate
  | IdPredicate
  | LastUpdatedPredicate
  | ChainPredicate
  | HasPredicate
  | CustodianPredicate
  | OrPredicate
  | AndPredicate
  | TypePredicate
  | EnrolledPredicate
  | PatientPredicate
  | NotPredicate;

/** One sort key: `_id`, `_lastUpdated` or a parameter (sorted by its lowest value; `-` = descending). */
export interface SortKey {
  param: '_id' | '_lastUpdated' | ParamRef;
  descending: boolean;
}

/** `_include` / `_revinclude`: `source:param[:target]`, or `*`. */
export interface IncludeSpec {
  sourceType: string;
  /** undefined means `*`: every reference parameter. */
  param?: ParamRef;
  targetType?: string;
  iterate: boolean;
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
  include?: IncludeSpec[];
  revinclude?: IncludeSpec[];
  /**
   * Predicates every resource returned must satisfy — matches, includes, chain and `_has`
   * targets alike. The access policy puts its rules here, so paging and totals stay right.
   */
  visibility?: Predicate[];
}
