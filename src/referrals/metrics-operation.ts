/**
 * GET|POST /fhir/Task/$referral-metrics?periodStart&periodEnd[&organization]: referral metrics
 * (metrics.ts) over the referral Tasks authored in the period that the caller may see: the same
 * visibility predicate as a search, so an organisation's figures never include another's referrals.
 */
import type { ParametersParameter, Quantity, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { FhirContext, FhirRequest, FhirResponse } from '../fhir/context';
import { principalOf } from '../fhir/context';
import { type Operation, inParameter } from '../fhir/operations';
import { unprocessable } from '../fhir/outcome';
import { outputParameters, readInput } from '../fhir/parameters';
import { assertAllowed, visibility } from '../policy/access';
import { MAX_COUNT, parseSearch } from '../search/parse';
import type { Predicate } from '../search/plan';
import { parseDateRange } from '../search/ranges';
import type { StoreReader, StoredVersion } from '../store/port';
import { type Counts, type Metrics, type ReferralRecord, type StatusAt, referralMetrics } from './metrics';
import { REFERRAL_SERVICE_SYSTEM, refId, serviceOf } from './task';

interface MetricsIn {
  periodStart: string;
  periodEnd: string;
  organization?: string;
}

const CANONICAL = 'https://linkcare.example.org/fhir/OperationDefinition';
const out = (name: string, type: string, min: number, max: string, documentation: string) => ({ name, use: 'out' as const, min, max, type, documentation });
const COUNTS = (what: string) => [
  out('total', 'integer', 1, '1', `Referrals ${what}`),
  out('sent', 'integer', 1, '1', 'Of these, sent (reached requested)'),
  out('accepted', 'integer', 1, '1', 'Of these, accepted at some point'),
  out('completed', 'integer', 1, '1', 'Of these, completed'),
  out('overdue', 'integer', 1, '1', 'Of these, open and past their deadline now'),
];

/** OperationDefinition of $referral-metrics (http://hl7.org/fhir/R4/operationdefinition.html). */
export const REFERRAL_METRICS: Operation['definition'] = {
  resourceType: 'OperationDefinition',
  id: 'referral-metrics',
  url: `${CANONICAL}/referral-metrics`,
  name: 'ReferralMetrics',
  status: 'active',
  kind: 'operation',
  code: 'referral-metrics',
  resource: ['Task'],
  system: false,
  type: true,
  instance: false,
  affectsState: false,
  description: 'Counts by status, acceptance and completion rates, median times to acceptance and completion (from Task history), overdue count and the same by service type, over the referral Tasks authored in the period that the caller may see.',
  parameter: [
    inParameter('periodStart', 'dateTime', 1, 'Start of the period (Task.authoredOn), inclusive'),
    inParameter('periodEnd', 'dateTime', 1, 'End of the period (Task.authoredOn), inclusive: a date means to the end of that day'),
    inParameter('organization', 'string', 0, 'Only referrals this Organization sent or received (id or Organization/id)'),
    ...COUNTS('authored in the period'),
    { name: 'status', use: 'out', min: 0, max: '*', documentation: 'Referrals per current status (statuses with none are left out)', part: [out('code', 'code', 1, '1', 'Task.status'), out('count', 'integer', 1, '1', 'How many')] },
    out('acceptanceRate', 'decimal', 0, '1', 'accepted / sent; absent when none was sent'),
    out('completionRate', 'decimal', 0, '1', 'completed / sent; absent when none was sent'),
    out('medianTimeToAcceptance', 'Quantity', 0, '1', 'Median time from the version that set requested to the one that set accepted (hours)'),
    out('medianTimeToCompletion', 'Quantity', 0, '1', 'Median time from the version that set requested to the one that set completed (hours)'),
    { name: 'service', use: 'out', min: 0, max: '*', documentation: 'The same counts per service type (ServiceRequest.code)', part: [out('type', 'Coding', 1, '1', 'The service'), ...COUNTS('of this service')] },
  ],
};

const PAGE = MAX_COUNT;

/** Every visible referral Task matching the plan, all pages. */
async function visibleReferrals(ctx: FhirContext, req: FhirRequest, input: MetricsIn): Promise<StoredVersion[]> {
  const query: [string, string][] = [['code', 'fulfill'], ['authored-on', `ge${input.periodStart}`], ['authored-on', `le${input.periodEnd}`]];
  const { plan } = parseSearch(ctx.registry, ['Task'], query, { baseUrl: ctx.config.baseUrl });
  if (input.organization) {
    const org = input.organization.replace(/^Organization\//, '');
    const side = (param: string): Predicate => parseSearch(ctx.registry, ['Task'], [[param, `Organization/${org}`]]).plan.where[0]!;
    plan.where.push({ kind: 'or', any: [side('requester'), side('owner')] });
  }
  plan.visibility = visibility(principalOf(req));
  plan.count = PAGE;
  plan.total = 'none';
  const found: StoredVersion[] = [];
  do {
    const page = await ctx.store.search(plan);
    found.push(...page.matches);
    plan.cursor = page.nextCursor;
  } while (plan.cursor);
  return found;
}

/** The status history of one Task, oldest first (one entry per version). */
async function statusHistory(store: StoreReader, id: string): Promise<StatusAt[]> {
  const versions: StoredVersion[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.history({ type: 'Task', id, count: PAGE, cursor });
    versions.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor);
  return versions
    .filter((v) => v.resource)
    .map((v) => ({ status: (v.resource as Task).status, at: v.lastUpdated }))
    .sort((a, b) => a.at.localeCompare(b.at));
}

/** One referral with its service and history. The ServiceRequest is read only for its code. */
async function record(store: StoreReader, v: StoredVersion): Promise<ReferralRecord> {
  const task = v.resource as Task;
  const srId = refId(task.focus, 'ServiceRequest');
  const sr = srId ? await store.read('ServiceRequest', srId) : undefined;
  return { task, service: serviceOf(sr?.resource as ServiceRequest | undefined), history: await statusHistory(store, v.id) };
}

const int = (name: string, valueInteger: number): ParametersParameter => ({ name, valueInteger });
const hours = (value: number): Quantity => ({ value, unit: 'h', system: 'http://unitsofmeasure.org', code: 'h' });

function countParams(c: Counts): ParametersParameter[] {
  return [int('total', c.total), int('sent', c.sent), int('accepted', c.accepted), int('completed', c.completed), int('overdue', c.overdue)];
}

/** The metrics as output Parameters, in the order of the OperationDefinition. */
export function metricsParameters(m: Metrics): ParametersParameter[] {
  const p = countParams(m);
  for (const [code, n] of Object.entries(m.byStatus).sort(([a], [b]) => a.localeCompare(b))) {
    p.push({ name: 'status', part: [{ name: 'code', valueCode: code }, int('count', n!)] });
  }
  if (m.acceptanceRate !== undefined) p.push({ name: 'acceptanceRate', valueDecimal: m.acceptanceRate });
  if (m.completionRate !== undefined) p.push({ name: 'completionRate', valueDecimal: m.completionRate });
  if (m.medianHoursToAcceptance !== undefined) p.push({ name: 'medianTimeToAcceptance', valueQuantity: hours(m.medianHoursToAcceptance) });
  if (m.medianHoursToCompletion !== undefined) p.push({ name: 'medianTimeToCompletion', valueQuantity: hours(m.medianHoursToCompletion) });
  for (const [code, c] of [...m.byService].sort(([a], [b]) => a.localeCompare(b))) {
    const type = code === 'unspecified' ? { code } : { system: REFERRAL_SERVICE_SYSTEM, code };
    p.push({ name: 'service', part: [{ name: 'type', valueCoding: type }, ...countParams(c)] });
  }
  return p;
}

/** Task/$referral-metrics (docs/referrals.md#metrics). */
export const referralMetricsOperation: Operation = {
  definition: REFERRAL_METRICS,
  async handler(ctx, req): Promise<FhirResponse> {
    const principal = principalOf(req);
    // Metrics are computed from the Tasks themselves: who may not search Tasks gets none.
    assertAllowed(principal, 'Task', 's');
    const input = readInput<MetricsIn>(req, 'referral-metrics');
    const start = parseDateRange(input.periodStart);
    const end = parseDateRange(input.periodEnd);
    if (!start || !end) throw unprocessable('periodStart and periodEnd must be valid dates', 'Parameters.parameter');
    if (end.high <= start.low) throw unprocessable('periodEnd is before periodStart', "Parameters.parameter.where(name = 'periodEnd')");
    const tasks = await visibleReferrals(ctx, req, input);
    const records = await Promise.all(tasks.map((v) => record(ctx.store, v)));
    req.audit.add({ action: 'E', subtype: '$referral-metrics', outcome: '0', query: { types: ['Task'], results: tasks.length } });
    return { status: 200, body: outputParameters(metricsParameters(referralMetrics(records, Date.now()))) };
  },
};
