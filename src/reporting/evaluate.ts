/**
 * Evaluating an indicator: the store counts the cells, this module sums them into the report's
 * tables and, for released figures, masks small cells. A masked figure carries no number at all,
 * so nothing downstream (MeasureReport, CSV) can leak it by mistake.
 */
import type { Indicator } from './indicators';
import type { Cell, IndicatorQueries, ReportScope } from './query';
import { STRATA } from './codes';
import { smallComplements, suppressCells } from './suppression';
import { type Count, type Stratifier, STRATIFIERS, TOTAL_KEY, cellKey, linesOf, tabulate, valuesOf } from './strata';

/** A published number, or the fact that it is masked. */
export type Figure = { count: number } | { masked: true };

/** One row of a report: a stratum (or the total) of one indicator. */
export interface Row {
  stratifier: Stratifier | 'total';
  value: string;
  population: Figure;
  numerator: Figure;
  /** numerator / population for proportions; absent when the population is 0 or for counts. */
  score?: { ratio: number } | { masked: true };
}

export interface IndicatorResult {
  indicator: Indicator;
  scope: ReportScope;
  suppression: { applied: boolean; threshold: number };
  total: Row;
  rows: Row[];
}

export interface EvaluateOptions {
  /** Mask small cells (the reporting role, or an extract marked for release). */
  suppress: boolean;
  threshold: number;
}

/** Evaluates one indicator for a scope. */
export async function evaluateIndicator(queries: IndicatorQueries, indicator: Indicator, scope: ReportScope, options: EvaluateOptions): Promise<IndicatorResult> {
  return resultOf(indicator, await queries.countCells(indicator.population, scope, STRATA), scope, options);
}

/** Evaluates several indicators for one scope from one read of the store (a whole report: /reports/indicators). */
export async function evaluateIndicators(
  queries: IndicatorQueries,
  indicators: readonly Indicator[],
  scope: ReportScope,
  options: EvaluateOptions,
): Promise<IndicatorResult[]> {
  const cells = await queries.countAllCells(indicators.map((i) => i.population), scope, STRATA);
  return indicators.map((indicator, i) => resultOf(indicator, cells[i]!, scope, options));
}

/** Sums an indicator's cells into its tables and masks them as asked. */
function resultOf(indicator: Indicator, cells: readonly Cell[], scope: ReportScope, options: EvaluateOptions): IndicatorResult {
  const tables = tabulate(cells);
  const lines = linesOf(tables);
  const none = new Set<string>();
  const populations = valuesOf(tables, (c) => c.population);
  const numerators = valuesOf(tables, (c) => c.numerator);
  const maskedPop = options.suppress ? suppressCells(populations, lines, options.threshold) : none;
  // "6 tested, 5 linked" shows the one not linked: such numerators are masked like small ones. Only
  // a proportion's numerator is a part of its population; other scorings' differences count no one.
  const rest = options.suppress && indicator.scoring === 'proportion' ? smallComplements(populations, numerators, maskedPop, options.threshold) : [];
  const maskedNum = options.suppress ? suppressCells(numerators, lines, options.threshold, rest) : none;
  const row = (stratifier: Row['stratifier'], value: string, key: string, c: Count): Row => {
    const population: Figure = maskedPop.has(key) ? { masked: true } : { count: c.population };
    const numerator: Figure = maskedNum.has(key) ? { masked: true } : { count: c.numerator };
    const out: Row = { stratifier, value, population, numerator };
    if (indicator.scoring === 'proportion' && c.population > 0) {
      // A rate whose numerator or denominator is masked is masked.
      out.score = 'masked' in population || 'masked' in numerator ? { masked: true } : { ratio: c.numerator / c.population };
    }
    return out;
  };
  const rows: Row[] = [];
  for (const s of STRATIFIERS) for (const [v, c] of tables.strata.get(s)!) rows.push(row(s, v, cellKey(s, v), c));
  return {
    indicator,
    scope,
    suppression: { applied: options.suppress, threshold: options.threshold },
    total: row('total', 'total', TOTAL_KEY, tables.total),
    rows,
  };
}
