/**
 * The codes the indicators count, and the kinds of event built from them. Each concept accepts the
 * WHO DAK data element code (CodeSystem HIVConcepts, /work/shared/who-hiv-dak/A.Data_dictionary,
 * "annex A", ids in comments), the LOINC/SNOMED CT code the DAK maps it to where that code means
 * only this concept, the codes of the project's profiles (read from their value sets, so they
 * cannot drift: profile-codes.ts) and the project codes the synthetic programme writes
 * (src/seed/codes.ts), so records made any of these ways count. docs/reporting.md lists them.
 */
import { projectCodes, valueSetCodes, without } from './profile-codes';
import { type Code, type CodeSource, EXCLUDED_STATUSES, type EventKind, type EventSource, type StrataSpec } from './query';

export const SNOMED = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const DAK = 'http://smart.who.int/hiv/CodeSystem/HIVConcepts';
const PROJECT = 'https://linkcare.example.org/fhir/CodeSystem';
export const REGIMEN = `${PROJECT}/regimen`;
/** KP-led / public / private provider (WHO consolidated SI guidelines 2022, "provider type" disaggregation). */
export const PROVIDER_TYPE = `${PROJECT}/provider-type`;
export const ORG_TYPE = 'http://terminology.hl7.org/CodeSystem/organization-type';
export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const TASK_CODE = 'http://hl7.org/fhir/CodeSystem/task-code';

const sct = (...codes: string[]): Code[] => codes.map((code) => ({ system: SNOMED, code }));
const loinc = (...codes: string[]): Code[] => codes.map((code) => ({ system: LOINC, code }));
const dak = (...codes: string[]): Code[] => codes.map((code) => ({ system: DAK, code }));
const project = (system: string, ...codes: string[]): Code[] => codes.map((code) => ({ system, code }));

const code = (...codes: Code[][]): CodeSource => ({ param: 'code', codes: codes.flat() });
const value = (...codes: Code[][]): CodeSource => ({ param: 'value-concept', codes: codes.flat() });
/** Codings among the reasons of a MedicationRequest/MedicationStatement (no search parameter in R4). */
const reason = (...codes: Code[][]): CodeSource => ({ json: '$.reasonCode[*].coding', codes: codes.flat() });
type More = Partial<Omit<EventSource, 'type' | 'code' | 'date'>>;
const observation = (c: CodeSource, more: More = {}): EventSource => ({ type: 'Observation', code: c, date: { param: 'date' }, ...more });
const prescription = (c: CodeSource, more: More = {}): EventSource => ({ type: 'MedicationRequest', code: c, date: { param: 'authoredon' }, ...more });
const kind = (id: string, ...sources: EventSource[]): EventKind => ({ id, sources });

/** HIV test conclusion (DAK HIV.B.DE111 "HIV test result"); self-tests have their own element (HIV.B.DE44) and are not counted (HIV.IND.19 exclusion). */
const HIV_TEST_CODE = code(dak('HIV.B.DE111'));
/**
 * A result returned (HIV.IND.19/20 count tests "with results returned"): a test declined or not done
 * is recorded with a dataAbsentReason and no value (hiv-test-declined profile; FHIR obs-6), while a
 * conclusion's value is HIV-positive, -negative or -inconclusive by its profile's value set. Leaving
 * out the few with a dataAbsentReason costs far less than matching the many with a value.
 * Codes: http://hl7.org/fhir/R4/codesystem-data-absent-reason.html
 */
const DATA_ABSENT: CodeSource = {
  param: 'data-absent-reason',
  codes: [
    'unknown', 'asked-unknown', 'temp-unknown', 'not-asked', 'asked-declined', 'masked', 'not-applicable', 'unsupported', 'as-text',
    'error', 'not-a-number', 'negative-infinity', 'positive-infinity', 'not-performed', 'not-permitted',
  ].map((c) => ({ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: c })),
};
/** HIV-positive (DAK HIV.B.DE112: SNOMED 713742005). */
export const HIV_POSITIVE = value(sct('713742005'), dak('HIV.B.DE112'));
export const HIV_TEST = kind('hiv-test', observation(HIV_TEST_CODE, { unless: [DATA_ABSENT] }));
export const HIV_TEST_POSITIVE = kind('hiv-test-positive', observation(HIV_TEST_CODE, { also: [HIV_POSITIVE] }));

/** PEP and PrEP as reasons (DAK HIV.C.DE77 / HIV.C.DE76, annex A SNOMED CT maps), the reasonCode of the pep-/prep-prescription profiles. */
const PEP_REASON = sct('409516001');
const PREP_REASON = sct('1137457009');
/** ART regimens: DAK HIV.D.DE90 options (the art-prescription/art-statement profiles' arv-regimen value set) and the seed's project code. */
const ART_REGIMENS = [...valueSetCodes('arv-regimen'), ...project(REGIMEN, 'art-tld')];
const PEP_REGIMENS = valueSetCodes('pep-regimen');
const PREP_REGIMENS = valueSetCodes('prep-regimen');
/** An ARV regimen given as PEP or PrEP is prevention, not ART (pep-regimen shares HIV.D.DE109/119 with arv-regimen). */
const NOT_PREVENTION: More = { unless: [reason(PEP_REASON, PREP_REASON)] };
/**
 * ART regimens no prevention regimen uses need no look at the reasons: reading each record's
 * reasonCode from its JSON is what costs, and most prescriptions are of these (the seed's art-tld).
 */
const ART_ONLY_REGIMENS = without(ART_REGIMENS, [...PEP_REGIMENS, ...PREP_REGIMENS]);
const SHARED_REGIMENS = without(ART_REGIMENS, ART_ONLY_REGIMENS);
/**
 * ART start: an Observation of DAK HIV.D.DE39 / HIV.B.DE72 "ART start date" dated the start, an ART
 * prescription (art-prescription profile), or ART taken from effectivePeriod.start (art-statement
 * profile, "ART start date" HIV.B.DE72), or ARVs dispensed (whenHandedOver). Not LOINC 63936-9 alone: it is "Start date of treatment or
 * therapy", which annex A maps to syphilis (HIV.B.DE254, HIV.D.DE806), hepatitis, PrEP and other
 * treatment starts too; a record that is an ART start carries the DAK element code beside it.
 */
export const ART_START = kind(
  'art-start',
  observation(code(dak('HIV.D.DE39', 'HIV.B.DE72'))),
  prescription(code(ART_ONLY_REGIMENS)),
  prescription(code(SHARED_REGIMENS), NOT_PREVENTION),
  // Not taken, or only intended: no ART started.
  { type: 'MedicationStatement', code: code(ART_REGIMENS), date: { param: 'effective' }, ...NOT_PREVENTION, excludeStatus: [...EXCLUDED_STATUSES, 'not-taken', 'intended'] },
  // ARVs handed over (an ARV pick-up). A dispense has no reasonCode to tell PEP/PrEP apart, so only
  // regimens no prevention regimen uses; not handed over while in preparation, on hold, cancelled or declined.
  { type: 'MedicationDispense', code: code(ART_ONLY_REGIMENS), date: { param: 'whenhandedover' }, excludeStatus: ['entered-in-error', 'cancelled', 'declined', 'preparation', 'on-hold'] },
);
/**
 * The ART records that set an expected pick-up: DAK HIV.D.DE460 "Number of days medications
 * prescribed" (MedicationRequest.dispenseRequest.expectedSupplyDuration) and HIV.D.DE462 "Number of
 * days of medications dispensed" (MedicationDispense.daysSupply), indexed as the project parameter
 * `supply-end` (src/search/supply-end.ts).
 */
export const ART_SUPPLY_TYPES: readonly string[] = ['MedicationRequest', 'MedicationDispense'];
/** Their date parameter: the day the supply runs out. */
export const SUPPLY_END_PARAM = 'supply-end';
/**
 * Lost to follow-up: more than 28 days since the last missed appointment (DAK HIV.IND.28 ART.2,
 * "Method of measurement": "The recommended threshold for designation of people living with HIV on
 * ART as lost to follow-up is 28 days after the last missed appointment"; HIV.D.DE652 ">28 days since
 * last missed appointment"; MER TX_ML "greater than 28 days since their last expected … ARV pick-up").
 */
export const ART_LATE_DAYS = 28;
/** HIV treatment outcome (DAK HIV.H.DE41) lost to follow-up, transferred out, died, stopped (DE42–45). */
export const TREATMENT_EXIT = kind(
  'treatment-exit',
  observation(code(dak('HIV.H.DE41')), { also: [value(sct('399307001', '107724000', '419099009', '413311005'), dak('HIV.H.DE42', 'HIV.H.DE43', 'HIV.H.DE44', 'HIV.H.DE45'))] }),
);
/** HIV viral load (DAK HIV.D.DE387 "Viral load test result"; the viral-load profile's hiv-viral-load-code value set: LOINC 25836-8 = DAK HIV.D.DE406, 23876-6), copies/mL. */
export const VIRAL_LOAD = kind('viral-load', observation(code(valueSetCodes('hiv-viral-load-code'), dak('HIV.D.DE387'))));

/** PrEP prescribed (DAK HIV.C.DE75 = HIV.C.DE76 "PrEP for HIV prevention"), or a PrEP regimen (DAK HIV.C.DE17 options HIV.C.DE18–21: the prep-prescription profile's prep-regimen value set). */
export const PREP = kind('prep', prescription(code(PREP_REASON, dak('HIV.C.DE76'), PREP_REGIMENS, project(REGIMEN, 'prep-ftc-tdf'))));
/**
 * PEP prescribed: as the medication, "PEP for HIV prevention" (DAK HIV.C.DE77) or a regimen only PEP
 * uses (DAK HIV.C.DE91 backbones HIV.C.DE92/93, seed pep-tld); or, as the pep-prescription profile
 * records it, any pep-regimen medication (also ART's HIV.D.DE109/119) with reasonCode PEP.
 */
const PEP_SOURCES: EventSource[] = [
  prescription(code(PEP_REASON, dak('HIV.C.DE77'), without(PEP_REGIMENS, ART_REGIMENS), project(REGIMEN, 'pep-tld'))),
  prescription(code(PEP_REGIMENS), { also: [reason(PEP_REASON)] }),
];
export const PEP = kind('pep', ...PEP_SOURCES);
/**
 * PEP course completed: DAK HIV.C.DE35 / HIV.C.DE90 "Date client completes PEP course"; the
 * pep-completion profile's Observation (project code pep-course-completion) with valueBoolean true
 * (false records a course not completed); or the PEP prescription marked completed.
 */
export const PEP_COMPLETED = kind(
  'pep-completed',
  observation(code(dak('HIV.C.DE35', 'HIV.C.DE90'))),
  observation(code(projectCodes('observation-type', 'pep-course-completion')), { also: [{ json: '$.valueBoolean', equals: true }] }),
  ...PEP_SOURCES.map((s) => ({ ...s, also: [...(s.also ?? []), { param: 'status', codes: [{ code: 'completed' }] }] })),
);
/** Days of a PEP course (WHO: 28 days; seed pep-tld, pep-prescription profile), for HIV.IND.6's due date. */
export const PEP_COURSE_DAYS = 28;

/** Key population member type (DAK HIV.B.DE50), valued DE51–55 in that order. */
export const KEY_POPULATION_TYPES: StrataSpec['keyPopulation']['types'] = [
  { value: 'sex-worker', codes: [...sct('449344001'), ...dak('HIV.B.DE51')] },
  { value: 'msm', codes: [...sct('472986005'), ...dak('HIV.B.DE52')] },
  { value: 'transgender', codes: [...sct('407375002', '472988006'), ...dak('HIV.B.DE53')] },
  { value: 'pwid', codes: [...sct('226034001', '1255626009'), ...dak('HIV.B.DE54')] },
  { value: 'prisoner', codes: [...sct('105568001', '160859003'), ...dak('HIV.B.DE55')] },
];
const KP_CODE = code(dak('HIV.B.DE50'));
export const KEY_POPULATION = kind('key-population', observation(KP_CODE));
/** Recorded as a person who injects drugs (HIV.IND.8, 11). */
export const KP_PWID = kind('kp-pwid', observation(KP_CODE, { also: [{ param: 'value-concept', codes: KEY_POPULATION_TYPES[3]!.codes }] }));

/** Any contact with the programme (outreach or clinic): an Encounter. Stands for "Date accessed HIV prevention intervention". */
export const CONTACT = kind('contact', { type: 'Encounter', date: { param: 'date' } });
/**
 * Needles and syringes handed out (DAK HIV.PRV.DE15 "Date injecting equipment provided"; commodity
 * needle-syringe of the harm-reduction-supply profile, which the seed writes too): SupplyDelivery
 * has no date or item search parameter, so both are read from the JSON.
 */
export const NSP = kind('nsp', {
  type: 'SupplyDelivery',
  code: { json: '$.suppliedItem.itemCodeableConcept.coding', codes: [...projectCodes('commodity', 'needle-syringe'), ...dak('HIV.PRV.DE15')] },
  date: { json: ['$.occurrenceDateTime', '$.occurrencePeriod.start'] },
  excludeStatus: ['entered-in-error', 'abandoned'],
});
/** Methadone (DAK HIV.D.DE555/915) and buprenorphine (HIV.D.DE552/916), with the ost-medication codes of the ost-dispense profile. */
export const METHADONE = [...sct('387286002', '51758009'), ...dak('HIV.D.DE555', 'HIV.D.DE915'), ...projectCodes('ost-medication', 'methadone'), ...project(REGIMEN, 'ost-methadone')];
export const BUPRENORPHINE = [...sct('387173000', '31684002'), ...dak('HIV.D.DE552', 'HIV.D.DE916'), ...projectCodes('ost-medication', 'buprenorphine'), ...project(REGIMEN, 'ost-buprenorphine')];
/**
 * Opioid agonist maintenance therapy (DAK HIV.PRV.DE18 "Date OAMT dose received"): prescribed, or a
 * dose handed over (ost-dispense profile: MedicationDispense dated whenHandedOver). A dispense still
 * in preparation, on hold, cancelled or declined was not received.
 */
export const OAMT = kind(
  'oamt',
  prescription(code(METHADONE, BUPRENORPHINE)),
  { type: 'MedicationDispense', code: code(METHADONE, BUPRENORPHINE), date: { param: 'whenhandedover' }, excludeStatus: ['entered-in-error', 'cancelled', 'declined', 'preparation', 'on-hold'] },
);
/** The dose of an OAMT prescription or dispense, mg (HIV.IND.14): the same path in both resources. */
export const DOSE_PATH = '$.dosageInstruction[0].doseAndRate[0].doseQuantity.value';

/** Syphilis test result (DAK HIV.B.DE250, HIV.D.DE802, HIV.G.DE70; HIV.D.DE402 "Syphilis test", the sti-test profile's code; RPR LOINC 20507-0). */
const SYPHILIS_CODE = code(dak('HIV.B.DE250', 'HIV.D.DE802', 'HIV.G.DE70', 'HIV.D.DE402'), loinc('20507-0'));
/** Positive / reactive (DAK HIV.B.DE251: SNOMED 165781001; SNOMED 11214006 reactive, 260373001 detected; the sti-test profile's test-result positive, reactive). */
const SYPHILIS_POSITIVE_VALUE = value(sct('165781001', '11214006', '260373001'), dak('HIV.B.DE251', 'HIV.D.DE803'), projectCodes('test-result', 'positive', 'reactive'));
export const SYPHILIS_TEST = kind('syphilis-test', observation(SYPHILIS_CODE));
export const SYPHILIS_POSITIVE = kind('syphilis-positive', observation(SYPHILIS_CODE, { also: [SYPHILIS_POSITIVE_VALUE] }));
/** Syphilis treatment started (DAK HIV.B.DE254, HIV.D.DE806) or benzathine benzylpenicillin prescribed (seed sti-bpg; sti-treatment profile's sti-medication). */
export const SYPHILIS_TREATMENT = kind(
  'syphilis-treatment',
  observation(code(dak('HIV.B.DE254', 'HIV.D.DE806'))),
  prescription(code(project(REGIMEN, 'sti-bpg'), projectCodes('sti-medication', 'benzathine-penicillin'))),
);

/** HBsAg test (LOINC 39007-0; DAK HIV.D.DE162 result, HIV.D.DE405 "HBsAg test (HBV)" of the hepatitis-test profile), positive DAK HIV.D.DE163 (SNOMED 165806002). */
const HBSAG_CODE = code(loinc('39007-0'), dak('HIV.D.DE162', 'HIV.D.DE405'));
export const HBSAG_TEST = kind('hbsag-test', observation(HBSAG_CODE));
export const HBSAG_POSITIVE = kind('hbsag-positive', observation(HBSAG_CODE, { also: [value(sct('165806002', '260373001'), dak('HIV.D.DE163'))] }));
/** Anti-HCV test (LOINC 48576-3; DAK HIV.D.DE170), positive DAK HIV.D.DE171 (SNOMED 314706002). */
const HCV_CODE = code(loinc('48576-3'), dak('HIV.D.DE170'));
export const HCV_TEST = kind('hcv-test', observation(HCV_CODE));
export const HCV_POSITIVE = kind('hcv-positive', observation(HCV_CODE, { also: [value(sct('314706002', '260373001'), dak('HIV.D.DE171'))] }));

/** TB symptom screen (W4SS, SNOMED 171126009; DAK HIV.D.DE986 "TB screening result"). */
export const TB_SCREEN = kind('tb-screen', observation(code(sct('171126009'), dak('HIV.D.DE986'))));

/** A referral: Task code `fulfill` (shared/domain.md, Referrals), dated by Task.authoredOn; drafts and withdrawn ones do not count. */
export const REFERRAL = kind('referral', {
  type: 'Task',
  code: code(project(TASK_CODE, 'fulfill')),
  date: { param: 'authored-on' },
  excludeStatus: ['draft', 'entered-in-error', 'cancelled'],
});
export const TASK_COMPLETED: CodeSource = { param: 'status', codes: [{ code: 'completed' }] };

/** How each stratifier is read (docs/reporting.md). */
export const STRATA: StrataSpec = {
  keyPopulation: { event: KEY_POPULATION, valueParam: 'value-concept', types: KEY_POPULATION_TYPES },
  setting: [
    { value: 'community', codes: project(ACT_CODE, 'FLD', 'HH', 'VR') },
    { value: 'facility', codes: project(ACT_CODE, 'AMB', 'IMP', 'EMER', 'ACUTE', 'NONAC', 'OBSENC', 'PRENC', 'SS') },
  ],
  providerType: [
    { value: 'kp-led', codes: [...project(PROVIDER_TYPE, 'kp-led'), ...project(ORG_TYPE, 'cg')] },
    { value: 'public', codes: [...project(PROVIDER_TYPE, 'public'), ...project(ORG_TYPE, 'govt')] },
    { value: 'private', codes: project(PROVIDER_TYPE, 'private') },
  ],
};
