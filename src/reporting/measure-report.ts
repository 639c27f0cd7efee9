/**
 * An indicator result as a summary MeasureReport (http://hl7.org/fhir/R4/measurereport.html).
 * A masked count has no `count` and carries the data-absent-reason extension with code `masked`
 * (http://hl7.org/fhir/R4/extension-data-absent-reason.html); so does a masked measureScore.
 */
import type { Extension, MeasureReport, MeasureReportGroupPopulation, Quantity } from '@medplum/fhirtypes';
import type { Figure, IndicatorResult, Row } from './evaluate';
import { MEASURE_BASE, POPULATION_SYSTEM, STRATIFIER_SYSTEM } from './measures';
import { STRATIFIERS } from './strata';

export const DATA_ABSENT_REASON = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
const MASKED: Extension[] = [{ url: DATA_ABSENT_REASON, valueCode: 'masked' }];

function population(code: string, f: Figure): MeasureReportGroupPopulation {
  const base = { code: { coding: [{ system: POPULATION_SYSTEM, code }] } };
  return 'masked' in f ? { ...base, extension: MASKED } : { ...base, count: f.count };
}

function populations(r: IndicatorResult, row: Row): MeasureReportGroupPopulation[] {
  const out = [population('initial-population', row.population), population('numerator', row.numerator)];
  if (r.indicator.scoring === 'proportion') out.push(population('denominator', row.population));
  return out;
}

function score(row: Row): Quantity | undefined {
  if (!row.score) return undefined;
  return 'masked' in row.score ? { extension: MASKED } : { value: Math.round(row.score.ratio * 10000) / 10000, unit: '1', system: 'http://unitsofmeasure.org', code: '1' };
}

/** The MeasureReport of one result. */
export function measureReportOf(r: IndicatorResult, now = new Date()): MeasureReport {
  const total = score(r.total);
  return {
    resourceType: 'MeasureReport',
    status: 'complete',
    type: 'summary',
    measure: `${MEASURE_BASE}/${r.indicator.id}`,
    date: now.toISOString(),
    period: { start: r.scope.periodStart, end: r.scope.periodEnd },
    ...(r.scope.custodian !== undefined ? { reporter: { reference: `Organization/${r.scope.custodian}` } } : {}),
    extension: [
      { url: 'https://linkcare.example.org/fhir/StructureDefinition/small-cell-suppression', valueBoolean: r.suppression.applied },
      ...(r.suppression.applied ? [{ url: 'https://linkcare.example.org/fhir/StructureDefinition/suppression-threshold', valueInteger: r.suppression.threshold }] : []),
    ],
    group: [
      {
        population: populations(r, r.total),
        ...(total ? { measureScore: total } : {}),
        stratifier: STRATIFIERS.map((s) => ({
          code: [{ coding: [{ system: STRATIFIER_SYSTEM, code: s }], text: s }],
          stratum: r.rows
            .filter((row) => row.stratifier === s)
            .map((row) => {
              const sc = score(row);
              return { value: { text: row.value }, population: populations(r, row), ...(sc ? { measureScore: sc } : {}) };
            }),
        })),
      },
    ],
  };
}
