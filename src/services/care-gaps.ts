/**
 * `GET|POST Patient/[id]/$care-gaps`: what is due or overdue for a client today, from their
 * stored record. Only what the caller may see counts: the Patient must be visible (else 404,
 * as for a read) and the record is gathered with the same visibility predicates every search
 * carries (src/policy/access.ts). The one exception is the assays behind an HIV conclusion: they
 * are those the caller may see, its own and those another organisation shares by the client's
 * consent (`assaysSeen`, the set the conclusion write rule and the HIV care episode count), so a
 * testing strategy completed across two organisations is not asked for again. Nothing the
 * consent does not grant shapes the answer, and the consents that did are audited.
 */
import type { Observation, ParametersParameter, Patient, Resource } from '@medplum/fhirtypes';
import type { FhirContext, FhirRequest, FhirResponse } from '../fhir/context';
import { principalOf, purposeOf } from '../fhir/context';
import { invalid, issue, notFound } from '../fhir/outcome';
import type { Operation } from '../fhir/operations';
import { outputParameters, readInput } from '../fhir/parameters';
import { assertAllowed, canSee, visibility } from '../policy/access';
import { inPatientCompartment } from '../search/compartment';
import type { SearchPlan } from '../search/plan';
import { queryEntry, withConsents } from '../audit/entries';
import type { StoreReader, StoredVersion } from '../store/port';
import type { Principal } from '../auth/principal';
import * as C from '../seed/codes';
import { formatDate, parseDate, utcDay } from './decisions/dates';
import { paramPath } from './decisions/result';
import { asPost } from './query-input';
import { type AssaysByConclusion, clientRecord, when } from './care-gaps-record';
import { VOID_STATUSES, assaysSeen, conclusionOf, has } from './hiv-conclusion';
import type { Assay } from './decisions/hiv-testing-strategy';
import { type Gap, careGaps } from './care-gaps-rules';

const CANONICAL = 'https://linkcare.example.org/fhir/OperationDefinition';
/** The kinds of resource a care gap can come from. */
const RECORD_TYPES = ['Observation', 'Condition', 'MedicationRequest', 'Immunization', 'Procedure', 'ServiceRequest', 'Task'];
const PAGE = 1000;

/** OperationDefinition of $care-gaps (http://hl7.org/fhir/R4/operationdefinition.html). */
export const CARE_GAPS: Operation['definition'] = {
  resourceType: 'OperationDefinition',
  id: 'Patient-care-gaps',
  url: `${CANONICAL}/Patient-care-gaps`,
  name: 'PatientCareGaps',
  status: 'active',
  kind: 'operation',
  code: 'care-gaps',
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  affectsState: false,
  description:
    "What is due or overdue for the client on a day, from the part of their record the caller may see: HIV test, completion of the testing strategy or retest (HIV.B7.DT, HIV.B9.DT), retest before ART (HIV.S.4), ART start, viral load (HIV.S.2), TB screen (HIV.D4.DT), hepatitis B doses, cervical screening (HIV.S.3), PrEP and OST refills, open urgent referrals. Offers, never preconditions (SWIT 5.1).",
  parameter: [
    { name: 'asOf', use: 'in', min: 0, max: '1', type: 'date', documentation: 'The day to evaluate; default today (UTC)' },
    {
      name: 'gap',
      use: 'out',
      min: 0,
      max: '*',
      documentation: 'One per service due or overdue, earliest first',
      part: [
        { name: 'code', use: 'out', min: 1, max: '1', type: 'code', documentation: 'What is due (hiv-test, hiv-testing-incomplete, hiv-conclusion-review, hiv-retest, hiv-retest-before-art, art-start, viral-load, viral-load-high, tb-screen, tb-evaluation, hbv-dose, cervical-screening, prep-refill, ost-refill, urgent-referral)' },
        { name: 'description', use: 'out', min: 1, max: '1', type: 'string', documentation: 'What to offer' },
        { name: 'dueDate', use: 'out', min: 1, max: '1', type: 'date', documentation: 'Due from this day' },
        { name: 'overdueDate', use: 'out', min: 0, max: '1', type: 'date', documentation: "Overdue from this day, per rule (DAK HIV.S.* 'Overdue' column: due date + 28 days for routine services, the due date for a viral load above 1000 copies/mL, 7 days for ART start, the day after the deadline for urgent referrals); absent when the gap expires first (HIV.S.4.05)" },
        { name: 'status', use: 'out', min: 1, max: '1', type: 'code', documentation: 'due | overdue (from overdueDate on)' },
        { name: 'rule', use: 'out', min: 1, max: '1', type: 'string', documentation: 'DAK rule or schedule id, HBV schedule id or SWIT section that fired' },
        { name: 'focus', use: 'out', min: 0, max: '1', type: 'Reference', documentation: 'The resource the gap is about (a referral Task)' },
      ],
    },
  ],
};

/** Every current resource of the client's compartment that the caller may see, of the record types. */
async function visibleRecord(ctx: FhirContext, req: FhirRequest, patientId: string): Promise<StoredVersion[]> {
  const principal = principalOf(req);
  const out: StoredVersion[] = [];
  for (const type of RECORD_TYPES) {
    const member = inPatientCompartment(ctx.registry, type, patientId);
    if (!member) continue;
    let cursor: string | undefined;
    do {
      const plan: SearchPlan = { types: [type], where: [member], sort: [], count: PAGE, total: 'none', visibility: visibility(principal), ...(cursor ? { cursor } : {}) };
      const page = await ctx.store.search(plan);
      out.push(...page.matches);
      cursor = page.nextCursor;
    } while (cursor);
  }
  return out;
}

/**
 * The assays behind each HIV conclusion of the record that counts (dated, with a result), as the
 * caller sees them (own and consent-shared, under the declared purpose of use), and, for the
 * audit, the consent-shared assays read and the consents that opened them.
 */
async function conclusionAssays(
  store: StoreReader,
  principal: Principal,
  purpose: string | undefined,
  record: readonly StoredVersion[],
): Promise<{ byConclusion: AssaysByConclusion; consents: string[]; shared: StoredVersion[] }> {
  const byConclusion = new Map<string, Assay[]>();
  const consents: string[] = [];
  const shared: StoredVersion[] = [];
  for (const v of record) {
    const o = v.resource as Observation | undefined;
    if (o?.resourceType !== 'Observation' || VOID_STATUSES.has(o.status) || !has(o.code, C.HIV_CONCLUSION)) continue;
    // clientRecord passes over an undated conclusion and a declined test: their assays are not read.
    if (!when(o) || !conclusionOf(o)) continue;
    const seen = await assaysSeen(store, o, principal, purpose);
    byConclusion.set(v.id, seen.assays);
    consents.push(...seen.consents);
    shared.push(...seen.shared);
  }
  return { byConclusion, consents, shared };
}

function gapParameter(g: Gap): ParametersParameter {
  return {
    name: 'gap',
    part: [
      { name: 'code', valueCode: g.code },
      { name: 'description', valueString: g.description },
      { name: 'dueDate', valueDate: g.dueDate },
      ...(g.overdueDate ? [{ name: 'overdueDate', valueDate: g.overdueDate }] : []),
      { name: 'status', valueCode: g.status },
      { name: 'rule', valueString: g.rule },
      ...(g.focus ? [{ name: 'focus', valueReference: { reference: g.focus } }] : []),
    ],
  };
}

/** Handler of Patient/[id]/$care-gaps (http://hl7.org/fhir/R4/operations.html#instance). */
async function careGapsHandler(ctx: FhirContext, req: FhirRequest, id: string): Promise<FhirResponse> {
  const principal = principalOf(req);
  assertAllowed(principal, 'Patient', 'r');
  const purpose = purposeOf(req);
  const input = readInput<{ asOf?: string }>(asPost(req, CARE_GAPS), 'care-gaps');
  const asOf = input.asOf ?? formatDate(utcDay(Date.now()));
  if (parseDate(asOf) === undefined) throw invalid([issue('invalid', `asOf "${asOf}" is not a calendar date`, paramPath('asOf'))], 400);
  const p = await ctx.store.read('Patient', id);
  if (!p || p.deleted || !(await canSee(principal, p, ctx.store))) throw notFound(`Patient/${id} not found`);
  const record = await visibleRecord(ctx, req, id);
  const assays = await conclusionAssays(ctx.store, principal, purpose, record);
  req.audit.add(withConsents(queryEntry('$care-gaps', RECORD_TYPES, [p, ...record, ...assays.shared]), assays.consents));
  const gaps = careGaps(clientRecord(p.resource as Patient, record.map((v) => v.resource as Resource), assays.byConclusion), asOf);
  return { status: 200, body: outputParameters(gaps.map(gapParameter)) };
}

/** The $care-gaps operation for the registry. */
export const careGapsOperation: Operation = {
  definition: CARE_GAPS,
  handler: (ctx, req, target) => careGapsHandler(ctx, req, target.id!),
};
