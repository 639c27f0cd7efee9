/**
 * The decision operations of Chapter 5 services: pure calculations over the caller's inputs.
 * They read no record and store nothing, so they need a caller who delivers care but no
 * resource permission; and nothing here makes one service a precondition of another (SWIT 5.1).
 */
import type { ParametersParameter, Quantity } from '@medplum/fhirtypes';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import { principalOf } from '../fhir/context';
import { forbidden, invalid } from '../fhir/outcome';
import type { Operation, OperationRegistry } from '../fhir/operations';
import { outputParameters, readInput } from '../fhir/parameters';
import type { Role } from '../auth/principal';
import type { Decision } from './decisions/result';
import { formatDate, formatDateTime, utcDay } from './decisions/dates';
import { type Assay, hivTestingStrategy } from './decisions/hiv-testing-strategy';
import { type RetestInput, hivRetestDue } from './decisions/hiv-retest';
import { type TbAlgorithm, type TbSymptom, tbScreen } from './decisions/tb-screen';
import { type PostExposureInput, postExposure } from './decisions/post-exposure';
import { type StiInput, defaultStiTable, stiSyndromic } from './decisions/sti-syndromic';
import { type HbvSchedule, hbvVaccinationSchedule } from './decisions/hbv-vaccination';
import { HBV_VACCINATION_SCHEDULE, HIV_RETEST_DUE, HIV_TESTING_STRATEGY, POST_EXPOSURE, STI_SYNDROMIC, TB_SCREEN } from './definitions';
import { asPost } from './query-input';

/** Reporting sees aggregates only and auditors read the trail: neither decides a client's care. */
const NOT_CARE_ROLES: ReadonlySet<Role> = new Set(['reporting', 'auditor']);

function assertCareRole(req: FhirRequest): void {
  const principal = principalOf(req);
  if (!principal.roles.some((r) => !NOT_CARE_ROLES.has(r))) {
    throw forbidden('Decision-support operations are for roles that deliver care, not reporting or auditor');
  }
}

/** A repeated parameter arrives as one value when given once and as an array when given more often. */
function many<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Issues of a failed decision as the HTTP error: 400 when malformed, else 422. */
function valueOf<T>(d: Decision<T>): T {
  if (d.ok) return d.value;
  throw invalid(d.issues, d.issues.some((i) => i.code === 'invalid') ? 400 : 422);
}

const str = (name: string, valueString: string): ParametersParameter => ({ name, valueString });
const rules = (ids: string[]): ParametersParameter[] => ids.map((id) => str('rule', id));
const ok = (parameter: ParametersParameter[]): FhirResponse => ({ status: 200, body: outputParameters(parameter) });
const today = (): string => formatDate(utcDay(Date.now()));

/** One decision operation: the definition, its input schema name and the calculation. */
function decision<I>(definition: Operation['definition'], compute: (input: I) => ParametersParameter[]): Operation {
  return {
    definition,
    handler: async (_ctx, req) => {
      assertCareRole(req);
      return ok(compute(readInput<I>(asPost(req, definition), definition.code)));
    },
  };
}

interface StrategyIn {
  assay: Assay | Assay[];
  visitDate?: string;
}

interface TbIn {
  age: number;
  symptom?: TbSymptom | TbSymptom[];
  crp?: Quantity;
  algorithm?: TbAlgorithm;
}

type PostExposureIn = Omit<PostExposureInput, 'assessmentDateTime'> & { assessmentDateTime?: string };

interface HbvIn {
  doseDate?: string | string[];
  schedule: HbvSchedule;
}

const strategy = decision<StrategyIn>(HIV_TESTING_STRATEGY, (i) => {
  const out = valueOf(hivTestingStrategy({ assays: many(i.assay), visitDate: i.visitDate ?? today() }));
  if ('nextStep' in out) return [{ name: 'nextStep', valueCode: out.nextStep }, str('rule', out.rule)];
  return [
    { name: 'conclusion', valueCode: out.conclusion },
    ...(out.retestDate ? [{ name: 'retestDate', valueDate: out.retestDate }] : []),
    str('rule', out.rule),
  ];
});

const retest = decision<RetestInput>(HIV_RETEST_DUE, (i) => {
  const out = valueOf(hivRetestDue(i));
  return [
    ...(out.nextTestDate ? [{ name: 'nextTestDate', valueDate: out.nextTestDate }] : []),
    str('rule', out.rule),
    ...out.recommendations.map((r) => ({
      name: 'recommendation',
      part: [str('rule', r.rule), str('action', r.action), ...(r.dueDate ? [{ name: 'dueDate', valueDate: r.dueDate }] : [])],
    })),
  ];
});

const tb = decision<TbIn>(TB_SCREEN, (i) => {
  const out = valueOf(tbScreen({ age: i.age, symptoms: [...new Set(many(i.symptom))], crp: i.crp?.value, algorithm: i.algorithm ?? 'w4ss' }));
  return [...(out.result ? [{ name: 'result', valueCode: out.result }] : []), str('action', out.action), str('rule', out.rule)];
});

const pep = decision<PostExposureIn>(POST_EXPOSURE, (i) => {
  const out = valueOf(postExposure({ ...i, assessmentDateTime: i.assessmentDateTime ?? formatDateTime(Date.now()) }));
  return [
    { name: 'pepEligible', valueBoolean: out.pepEligible },
    ...(out.pepDeadline ? [{ name: 'pepDeadline', valueDateTime: out.pepDeadline }] : []),
    { name: 'ecEligible', valueBoolean: out.ecEligible },
    ...(out.ecDeadline ? [{ name: 'ecDeadline', valueDateTime: out.ecDeadline }] : []),
    { name: 'stiProphylaxis', valueBoolean: out.stiProphylaxis },
    { name: 'hbvVaccination', valueBoolean: out.hbvVaccination },
    ...out.followUp.map((f) => ({ name: 'followUp', part: [str('service', f.service), { name: 'dueDate', valueDate: f.dueDate }] })),
    ...rules(out.rules),
  ];
});

const sti = decision<StiInput>(STI_SYNDROMIC, (i) => {
  const out = valueOf(stiSyndromic(i));
  return [
    ...out.options.map((o) => ({ name: 'option', part: [str('regimen', o.regimen), str('note', o.note)] })),
    str('tableVersion', out.tableVersion),
    str('reviewStatus', out.reviewStatus),
    str('rule', out.rule),
  ];
});

const hbv = decision<HbvIn>(HBV_VACCINATION_SCHEDULE, (i) => {
  const out = valueOf(hbvVaccinationSchedule({ doseDates: many(i.doseDate), schedule: i.schedule }));
  return [
    'complete' in out ? { name: 'complete', valueBoolean: true } : { name: 'nextDoseDate', valueDate: out.nextDoseDate },
    str('rule', out.rule),
  ];
});

/** Registers the six decision operations (http://hl7.org/fhir/R4/operations.html). */
export function registerDecisionOperations(ops: OperationRegistry): OperationRegistry {
  // Read the programme's STI table now, so a broken edit stops the server at start-up.
  defaultStiTable();
  return ops.register(strategy).register(retest).register(tb).register(pep).register(sti).register(hbv);
}
