/**
 * Measure/{id}/$evaluate-measure (http://hl7.org/fhir/R4/measure-operation-evaluate-measure.html):
 * a summary MeasureReport of one indicator over a period, for the whole programme or one
 * organisation, small-cell suppressed for ministries and for extracts marked for release.
 */
import type { FhirContext, FhirRequest, FhirResponse } from '../fhir/context';
import { principalOf } from '../fhir/context';
import { notFound, notImplemented } from '../fhir/outcome';
import { type Operation, inParameter } from '../fhir/operations';
import { readInput } from '../fhir/parameters';
import type { IndicatorQueries } from './query';
import { audienceFor } from './audience';
import { evaluateIndicator } from './evaluate';
import { indicatorById } from './indicators';
import { type ReportRequest, assertPeriodFor, reportRequest } from './input';
import { measureReportOf } from './measure-report';
import { suppressionThreshold } from './settings';

const DEFINITION: Operation['definition'] = {
  resourceType: 'OperationDefinition',
  id: 'Measure-evaluate-measure',
  url: 'https://linkcare.example.org/fhir/OperationDefinition/Measure-evaluate-measure',
  name: 'EvaluateMeasure',
  status: 'active',
  kind: 'operation',
  code: 'evaluate-measure',
  base: 'http://hl7.org/fhir/OperationDefinition/Measure-evaluate-measure',
  resource: ['Measure'],
  system: false,
  type: false,
  instance: true,
  affectsState: false,
  description: 'Summary MeasureReport of a linkcare indicator. Ministries (role reporting) get small-cell suppressed figures; staff get their own organisation\'s figures.',
  parameter: [
    inParameter('periodStart', 'date', 1, 'First day of the period (inclusive, UTC)'),
    inParameter('periodEnd', 'date', 1, 'Last day of the period (inclusive, UTC)'),
    inParameter('reportType', 'code', 0, 'summary (the only type: individual reports would name a client)'),
    inParameter('subject', 'string', 0, 'Organization/<id>: only data held by that organisation'),
    inParameter('release', 'boolean', 0, 'Extract marked for release: suppress small cells whoever asks'),
    { name: 'return', use: 'out', min: 1, max: '1', type: 'MeasureReport', documentation: 'The summary MeasureReport' },
  ],
};

/** The store's indicator queries, or 501 when the store has none. */
export function queriesOf(ctx: FhirContext): IndicatorQueries {
  const q = ctx.store.reports?.();
  if (!q) throw notImplemented('This store does not evaluate indicators');
  return q;
}

const paramPath = (name: string): string => `Parameters.parameter.where(name = '${name}')`;

async function handler(ctx: FhirContext, req: FhirRequest, target: { id?: string }): Promise<FhirResponse> {
  const principal = principalOf(req);
  const indicator = indicatorById(target.id ?? '');
  if (!indicator) throw notFound(`Measure/${target.id ?? ''} is not an indicator linkcare evaluates`);
  const input = readInput<Record<string, unknown>>(req, 'evaluate-measure');
  const request: ReportRequest = reportRequest(input, paramPath);
  const audience = audienceFor(principal, request.subjectOrg, request.release);
  assertPeriodFor(audience, request, paramPath);
  const result = await evaluateIndicator(
    queriesOf(ctx),
    indicator,
    { periodStart: request.periodStart, periodEnd: request.periodEnd, ...(audience.custodian !== undefined ? { custodian: audience.custodian } : {}) },
    { suppress: audience.suppress, threshold: suppressionThreshold(ctx.config) },
  );
  req.audit.add({ action: 'E', subtype: '$evaluate-measure', outcome: '0', references: [`Measure/${indicator.id}`], patientIds: [] });
  return { status: 200, body: measureReportOf(result) };
}

/** The $evaluate-measure operation. */
export const evaluateMeasureOperation: Operation = { definition: DEFINITION, handler };
