/**
 * OperationDefinitions of the decision operations (http://hl7.org/fhir/R4/operationdefinition.html).
 * All are system-level and change nothing (`affectsState: false`), so the router also allows GET
 * for those whose inputs are all primitive.
 */
import type { OperationDefinitionParameter } from '@medplum/fhirtypes';
import type { Operation } from '../fhir/operations';

const CANONICAL = 'https://linkcare.example.org/fhir/OperationDefinition';

type Param = OperationDefinitionParameter;

const inp = (name: string, type: string, min: number, max: string, documentation: string): Param => ({ name, use: 'in', min, max, type, documentation });
const out = (name: string, type: string, min: number, max: string, documentation: string): Param => ({ name, use: 'out', min, max, type, documentation });
const RULE = (what: string): Param => out('rule', 'string', 1, '*', `Id of the rule that fired (${what})`);

function definition(id: string, description: string, parameter: Param[]): Operation['definition'] {
  return {
    resourceType: 'OperationDefinition',
    id,
    url: `${CANONICAL}/${id}`,
    name: id.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase()),
    status: 'active',
    kind: 'operation',
    code: id,
    system: true,
    type: false,
    instance: false,
    affectsState: false,
    description,
    parameter,
  };
}

/** $hiv-testing-strategy (DAK HIV.B7.DT, https://smart.who.int/hiv/). */
export const HIV_TESTING_STRATEGY = definition(
  'hiv-testing-strategy',
  'Next assay or conclusion of the WHO standard HIV testing strategy for people aged 18 months and over (DAK HIV.B7.DT). Pure: stores nothing.',
  [
    {
      name: 'assay',
      use: 'in',
      min: 1,
      max: '*',
      documentation: 'One per assay done so far, each step at most once',
      part: [
        inp('step', 'code', 1, '1', 'A1 | A2 | A3 | A1-repeat'),
        inp('result', 'code', 1, '1', 'reactive | non-reactive'),
        inp('testType', 'code', 0, '1', 'rdt | eia'),
      ],
    },
    inp('visitDate', 'date', 0, '1', 'Date of the visit; default today (UTC)'),
    out('nextStep', 'code', 0, '1', 'A2 | A3 | A1-repeat, when the strategy continues'),
    out('conclusion', 'code', 0, '1', 'HIV-positive | HIV-negative | HIV-inconclusive, when it ends'),
    out('retestDate', 'date', 0, '1', 'visitDate + 14 days, when inconclusive'),
    RULE('HIV.B7.DT.01–08'),
  ],
);

/** $hiv-retest-due (DAK HIV.B9.DT, https://smart.who.int/hiv/). */
export const HIV_RETEST_DUE = definition(
  'hiv-retest-due',
  'When the next HIV test is due after a negative one (DAK HIV.B9.DT, hit policy Rule order). Pure: stores nothing.',
  [
    inp('lastNegativeTestDate', 'date', 1, '1', 'Date of the last negative HIV test'),
    inp('keyPopulation', 'boolean', 1, '1', 'Member of a key population (HIV.B9.DT.03)'),
    inp('onPrep', 'boolean', 1, '1', 'Currently on PrEP (HIV.B9.DT.07)'),
    inp('partnerNotVirallySuppressed', 'boolean', 0, '1', 'Partner living with HIV and not virally suppressed (HIV.B9.DT.01, .11)'),
    inp('highBurdenSetting', 'boolean', 0, '1', 'true: high, false: low HIV burden setting (HIV.B9.DT.02, .08–.12)'),
    inp('elevatedRisk', 'boolean', 0, '1', 'At elevated risk of HIV acquisition (HIV.B9.DT.04, .12)'),
    inp('pregnant', 'boolean', 0, '1', 'Currently pregnant (HIV.B9.DT.08–.12)'),
    inp('tbDiagnosed', 'boolean', 0, '1', 'Diagnosed with TB (HIV.B9.DT.05)'),
    inp('presumptiveTb', 'boolean', 0, '1', 'Presumptive TB (HIV.B9.DT.06)'),
    out('nextTestDate', 'date', 0, '1', 'Earliest dated recommendation; absent when no dated row applies'),
    RULE('the row that set nextTestDate; HIV.B9.DT when no row applies'),
    {
      name: 'recommendation',
      use: 'out',
      min: 0,
      max: '*',
      documentation: 'Every row that applies, in rule order',
      part: [out('rule', 'string', 1, '1', 'Row id'), out('action', 'string', 1, '1', 'What to do'), out('dueDate', 'date', 0, '1', 'When, if the row gives an interval')],
    },
  ],
);

/** $tb-screen (DAK HIV.D4.DT, https://smart.who.int/hiv/). */
export const TB_SCREEN = definition(
  'tb-screen',
  'TB screening by the WHO four-symptom screen, alone or followed by CRP, for people aged 10 and over (DAK HIV.D4.DT.01–06). Pure: stores nothing.',
  [
    inp('age', 'integer', 1, '1', 'Age in years'),
    inp('symptom', 'code', 0, '*', 'cough | fever | weight-loss | night-sweats; none given = no symptoms'),
    inp('crp', 'Quantity', 0, '1', 'C-reactive protein in mg/L (UCUM mg/L), for algorithm w4ss-crp'),
    inp('algorithm', 'code', 0, '1', 'w4ss (default) | w4ss-crp'),
    out('result', 'code', 0, '1', 'screen-positive | screen-negative; absent while a CRP test is still to be done'),
    out('action', 'string', 1, '1', 'What to do next'),
    RULE('HIV.D4.DT.01–06'),
  ],
);

/** $post-exposure (SWIT 5.7, https://www.who.int/publications/i/item/9789241506182). */
export const POST_EXPOSURE = definition(
  'post-exposure',
  'PEP and emergency contraception windows and post-rape care after an exposure (SWIT 5.7). Pure: stores nothing.',
  [
    inp('exposureDateTime', 'dateTime', 1, '1', 'When the exposure happened, with time and time zone'),
    inp('assessmentDateTime', 'dateTime', 0, '1', 'When the client is assessed; default now'),
    inp('exposureType', 'code', 1, '1', 'sexual-assault | condom-failure | condomless-sex | needle-sharing | occupational'),
    inp('hivStatus', 'code', 1, '1', 'HIV-positive | HIV-negative | unknown'),
    inp('pregnant', 'boolean', 1, '1', 'Currently pregnant'),
    inp('pregnancyPossible', 'boolean', 0, '1', 'Whether the client can become pregnant; false rules emergency contraception out (default: possible)'),
    inp('sex', 'code', 1, '1', 'female | male | other | unknown (administrative gender: never rules emergency contraception out on its own)'),
    out('pepEligible', 'boolean', 1, '1', 'Within 72 hours and not living with HIV'),
    out('pepDeadline', 'dateTime', 0, '1', 'exposureDateTime + 72 hours; absent for someone living with HIV'),
    out('ecEligible', 'boolean', 1, '1', 'Sexual exposure, not already pregnant, pregnancy not ruled out, and within 120 hours'),
    out('ecDeadline', 'dateTime', 0, '1', 'exposureDateTime + 120 hours, when emergency contraception applies'),
    out('stiProphylaxis', 'boolean', 1, '1', 'Offer presumptive STI treatment (sexual assault)'),
    out('hbvVaccination', 'boolean', 1, '1', 'Offer hepatitis B vaccination (sexual assault)'),
    {
      name: 'followUp',
      use: 'out',
      min: 0,
      max: '*',
      documentation: 'Follow-up services and their dates',
      part: [out('service', 'string', 1, '1', 'The service'), out('dueDate', 'date', 1, '1', 'Due from this date')],
    },
    RULE('SWIT5.7.PEP.01–03, SWIT5.7.EC.01–03, SWIT5.7.SA.01–02, SWIT5.7.FU.01'),
  ],
);

/** $sti-syndromic (WHO 2021 symptomatic STI guidelines, https://www.who.int/publications/i/item/9789240024168). */
export const STI_SYNDROMIC = definition(
  'sti-syndromic',
  'Syndromic STI treatment options from the programme-editable table schemas/services/sti-syndromic-table.json (WHO 2021 and 2016 STI guidelines). Pure: stores nothing.',
  [
    inp('syndrome', 'code', 1, '1', 'urethral-discharge | vaginal-discharge | genital-ulcer | lower-abdominal-pain | anorectal-discharge'),
    inp('sex', 'code', 1, '1', 'female | male | other | unknown'),
    inp('pregnant', 'boolean', 1, '1', 'Currently pregnant'),
    {
      name: 'option',
      use: 'out',
      min: 1,
      max: '*',
      documentation: 'Alternative regimens, preferred first',
      part: [out('regimen', 'string', 1, '1', 'Medicines, doses and duration'), out('note', 'string', 1, '1', 'When to choose it')],
    },
    out('tableVersion', 'string', 1, '1', 'Version of the table the options came from'),
    out('reviewStatus', 'string', 1, '1', 'Clinical review status of that table'),
    RULE('STI.SYN.* row of the table'),
  ],
);

/** $hbv-vaccination-schedule (WHO hepatitis B position paper, https://www.who.int/teams/immunization-vaccines-and-biologicals/policies/position-papers/hepatitis-b). */
export const HBV_VACCINATION_SCHEDULE = definition(
  'hbv-vaccination-schedule',
  'Next hepatitis B vaccine dose, standard (0, 1, 6 months) or accelerated (0, 7, 21 days + 12-month booster) schedule. Pure: stores nothing.',
  [
    inp('doseDate', 'date', 0, '*', 'Dates of the doses given, oldest first'),
    inp('schedule', 'code', 1, '1', 'standard | accelerated'),
    out('nextDoseDate', 'date', 0, '1', 'When the next dose is due'),
    out('complete', 'boolean', 0, '1', 'true when the series is complete'),
    RULE('HBV.STD.01–04, HBV.ACC.01–05'),
  ],
);
