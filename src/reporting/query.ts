/**
 * The storage-neutral query interface of indicator evaluation. An indicator is a population of
 * clients (or of events, e.g. tests) picked by an "anchor" event in a time window, narrowed by
 * conditions, with a numerator given by further conditions. A store answers one question:
 * "how many units, and how many of them meet the numerator, per stratum cell", aggregated in the
 * store (SQL GROUP BY), never by handing resources to the caller; a whole report asks once for all
 * its populations (`countAllCells`), so what they share is derived once. Stores implement
 * `IndicatorQueries` (src/store/sqlite/report-sql.ts).
 */

/** A coding to match: system and code. */
export interface Code {
  /** Absent only for `code` elements (e.g. Task.status), which carry no system. */
  system?: string;
  code: string;
}

/**
 * Which codes an event must carry: on a search parameter's index, or (elements no parameter covers)
 * among the Codings at a JSON path of the resource; `[*]` in the path steps into each member of an
 * array (`$.reasonCode[*].coding`: the codings of every reason).
 */
export type CodeSource = { param: string; codes: readonly Code[] } | { json: string; codes: readonly Code[] };

/** A JSON element no search parameter covers that must hold this value (e.g. `$.valueBoolean` true). */
export interface JsonValue {
  json: string;
  equals: boolean;
}

/**
 * The instant an event happened: a date search parameter (its lower bound), or JSON paths tried in
 * order for types that have no date parameter (compared at day precision).
 */
export type DateSource = { param: string } | { json: readonly string[] };

/** One way an event can be recorded: a resource type with its code, date and extra token conditions. */
export interface EventSource {
  type: string;
  /** The codes it carries; absent = every record of the type (e.g. any Encounter is a contact). */
  code?: CodeSource;
  date: DateSource;
  /** Further conditions, all of which must hold (e.g. Task.status). */
  also?: readonly (CodeSource | JsonValue)[];
  /** Codes that make the record not count (e.g. an ARV regimen whose reason is PEP is not ART). */
  unless?: readonly CodeSource[];
  /** Statuses (`<type>.status` token codes) that make the record not count; default EXCLUDED_STATUSES. */
  excludeStatus?: readonly string[];
}

/** Statuses that never count: the record was a mistake, withdrawn, or is not yet real. */
export const EXCLUDED_STATUSES: readonly string[] = ['entered-in-error', 'cancelled', 'draft', 'preliminary', 'registered', 'revoked'];

/** A kind of event (an HIV test conclusion, an ART start…): any of its sources. */
export interface EventKind {
  id: string;
  sources: readonly EventSource[];
}

/**
 * When an event must have happened. Periods are whole UTC days: `period` = [start, end];
 * `to-end` = any time up to the end; `before-start` = before the period; `since-anchor` = at or
 * after the anchor event and up to the end; `monthsBeforeEnd` = at or before end − n months;
 * `courseDays` = in the period, on a day from which a course of n days (that day the first) ends
 * by the period end, i.e. at or before end − (n − 1) days.
 */
export type Window = 'period' | 'to-end' | 'before-start' | 'since-anchor' | { monthsBeforeEnd: number } | { courseDays: number };

/** A condition on a unit of the population. */
export type Condition =
  | { kind: 'exists'; event: EventKind; window: Window }
  | { kind: 'not'; of: Condition }
  | { kind: 'all'; of: readonly Condition[] }
  | { kind: 'any'; of: readonly Condition[] }
  /** The anchor resource itself carries one of these codes (e.g. a positive test result). */
  | { kind: 'anchor-code'; code: CodeSource }
  /** The anchor's indexed quantity (e.g. Observation.value-quantity) is below `lt` or at least `ge`. */
  | { kind: 'anchor-quantity'; param: string; lt?: number; ge?: number }
  /** The number at a JSON path of the anchor (an element no search parameter covers) is at least `ge`. */
  | { kind: 'anchor-number'; path: string; ge: number }
  /**
   * Supply not run out: the client's latest `event` up to the period end among `types` (the last
   * pick-up or prescription) has its date parameter `param` (the day the supply runs out) no more
   * than `lateDays` days before the period end. Met when there is no such record, or it records no
   * supply (no expected pick-up date to be late for).
   */
  | { kind: 'supply-current'; event: EventKind; types: readonly string[]; param: string; lateDays: number };

/**
 * A population. `client`: distinct clients, each attributed to one anchor event (the first or
 * last in the window: its organisation and setting are the client's strata). `event`: every
 * anchor event counts (e.g. HIV.IND.19 counts tests).
 */
export interface PopulationQuery {
  unit: 'client' | 'event';
  anchor: EventKind;
  anchorWindow: Window;
  pick?: 'first' | 'last';
  /** Conditions every unit of the population meets (initial population = denominator). */
  require?: readonly Condition[];
  /** Further conditions for the numerator; none = the numerator is the whole population (counts). */
  numerator?: readonly Condition[];
}

/** Reporting period (inclusive ISO dates) and, for an organisation's own report, its id. */
export interface ReportScope {
  periodStart: string;
  periodEnd: string;
  /** Only data held by this organisation counts (every event, the key population records too). */
  custodian?: string;
}

/**
 * How the stratifier values are read from the records (docs/reporting.md). Values a client has none
 * of fall in `not-recorded`/`unknown` strata, so each stratifier partitions the population.
 */
export interface StrataSpec {
  /** The key-population record; a client with several types is counted under the first listed type. */
  keyPopulation: { event: EventKind; valueParam: string; types: readonly { value: string; codes: readonly Code[] }[] };
  /** Encounter.class codes of each setting. */
  setting: readonly { value: string; codes: readonly Code[] }[];
  /** Organization.type codes of each provider type. */
  providerType: readonly { value: string; codes: readonly Code[] }[];
}

/** One cell of the full cross-classification, with its counts. */
export interface Cell {
  /** MER five-year band (`<1`, `1-4`, … `65+`), or `unknown`. */
  ageBandMer: string;
  gender: string;
  keyPopulation: string;
  organization: string;
  setting: string;
  providerType: string;
  /** Units of the population (initial population and denominator). */
  population: number;
  numerator: number;
}

/** What a store offers for indicator evaluation. */
export interface IndicatorQueries {
  /** Counts the population and its numerator per cell of age × gender × key population × organisation × setting × provider type. */
  countCells(query: PopulationQuery, scope: ReportScope, strata: StrataSpec): Promise<Cell[]>;
  /**
   * The cells of several populations over one scope, in order, all from the same data (one read
   * snapshot); events, anchors and strata shared between the populations are derived once.
   */
  countAllCells(queries: readonly PopulationQuery[], scope: ReportScope, strata: StrataSpec): Promise<Cell[][]>;
  /** Counts current resources (the benchmark's baseline: a full scan of the resources table). */
  countResources(): Promise<number>;
}
