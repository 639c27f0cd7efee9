/**
 * The codes the indicators count, and the kinds of event built from them. Each concept accepts the
 * WHO DAK data element code (CodeSystem HIVConcepts, /work/shared/who-hiv-dak/A.Data_dictionary,
 * ids in comments), the LOINC/SNOMED CT code the DAK maps it to, and the project codes the
 * synthetic programme writes (src/seed/codes.ts), so records made either way count.
 * docs/reporting.md lists them per indicator.
 */
import type { Code, CodeSource, EventKind, EventSource, StrataSpec } from './query';

export const SNOMED = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const DAK = 'http://smart.who.int/hiv/CodeSystem/HIVConcepts';
const PROJECT = 'https://linkcare.example.org/fhir/CodeSystem';
export const REGIMEN = `${PROJECT}/regimen`;
export const COMMODITY = `${PROJECT}/commodity`;
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
const observation = (c: CodeSource, also?: CodeSource[]): EventSource => ({ type: 'Observation', code: c, date: { param: 'date' }, ...(also ? { also } : {}) });
const prescription = (c: CodeSource, also?: CodeSource[]): EventSource => ({ type: 'MedicationRequest', code: c, date: { param: 'authoredon' }, ...(also ? { also } : {}) });
const kind = (id: string, ...sources: EventSource[]): EventKind => ({ id, sources });

/** HIV test conclusion (DAK HIV.B.DE111 "HIV test result"); self-tests have their own element (HIV.B.DE44) and are not counted (HIV.IND.19 exclusion). */
const HIV_TEST_CODE = code(dak('HIV.B.DE111'));
/** HIV-positive (DAK HIV.B.DE112: SNOMED 713742005). */
export const HIV_POSITIVE = value(sct('713742005'), dak('HIV.B.DE112'));
export const HIV_TEST = kind('hiv-test', observation(HIV_TEST_CODE));
export const HIV_TEST_POSITIVE = kind('hiv-test-positive', observation(HIV_TEST_CODE, [HIV_POSITIVE]));

/** ART regimens the programme prescribes (src/seed/codes.ts REGIMENS). */
const ART_REGIMENS = project(REGIMEN, 'art-tld');
/** ART start: an Observation of DAK HIV.D.DE39 / HIV.B.DE72 "ART start date" (LOINC 63936-9) dated the start, or an ART prescription. */
export const ART_START = kind(
  'art-start',
  observation(code(dak('HIV.D.DE39', 'HIV.B.DE72'), loinc('63936-9'))),
  prescription(code(ART_REGIMENS)),
);
/** HIV treatment outcome (DAK HIV.H.DE41) lost to follow-up, transferred out, died, stopped (DE42–45). */
export const TREATMENT_EXIT = kind(
  'treatment-exit',
  observation(code(dak('HIV.H.DE41')), [value(sct('399307001', '107724000', '419099009', '413311005'), dak('HIV.H.DE42', 'HIV.H.DE43', 'HIV.H.DE44', 'HIV.H.DE45'))]),
);
/** HIV viral load (LOINC 23876-6; DAK HIV.D.DE387 "Viral load test result"), copies/mL. */
export const VIRAL_LOAD = kind('viral-load', observation(code(loinc('23876-6'), dak('HIV.D.DE387'))));

/** PrEP prescribed (DAK HIV.C.DE75 = HIV.C.DE76 "PrEP for HIV prevention": SNOMED 1137457009). */
export const PREP = kind('prep', prescription(code(sct('1137457009'), dak('HIV.C.DE76'), project(REGIMEN, 'prep-ftc-tdf'))));
const PEP_CODE = code(sct('409516001'), dak('HIV.C.DE77'), project(REGIMEN, 'pep-tld'));
/** PEP prescribed (DAK HIV.C.DE77: SNOMED 409516001). */
export const PEP = kind('pep', prescription(PEP_CODE));
/** PEP course completed: DAK HIV.C.DE35 "Date client completes PEP course", or the PEP prescription marked completed. */
export const PEP_COMPLETED = kind(
  'pep-completed',
  observation(code(dak('HIV.C.DE35'))),
  prescription(PEP_CODE, [{ param: 'status', codes: [{ code: 'completed' }] }]),
);

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
export const KP_PWID = kind('kp-pwid', observation(KP_CODE, [{ param: 'value-concept', codes: KEY_POPULATION_TYPES[3]!.codes }]));

/** Any contact with the programme (outreach or clinic): an Encounter. Stands for "Date accessed HIV prevention intervention". */
export const CONTACT = kind('contact', { type: 'Encounter', date: { param: 'date' } });
/** Needles and syringes handed out (DAK HIV.PRV.DE15 "Date injecting equipment provided"): SupplyDelivery has no date or item search parameter, so both are read from the JSON. */
export const NSP = kind('nsp', {
  type: 'SupplyDelivery',
  code: { json: '$.suppliedItem.itemCodeableConcept.coding', codes: [...project(COMMODITY, 'nsp-kit'), ...dak('HIV.PRV.DE15')] },
  date: { json: ['$.occurrenceDateTime', '$.occurrencePeriod.start'] },
  excludeStatus: ['entered-in-error', 'abandoned'],
});
/** Methadone (DAK HIV.D.DE555/915) and buprenorphine (HIV.D.DE552/916). */
export const METHADONE = [...sct('387286002', '51758009'), ...dak('HIV.D.DE555', 'HIV.D.DE915'), ...project(REGIMEN, 'ost-methadone')];
export const BUPRENORPHINE = [...sct('387173000', '31684002'), ...dak('HIV.D.DE552', 'HIV.D.DE916'), ...project(REGIMEN, 'ost-buprenorphine')];
/** Opioid agonist maintenance therapy prescribed (DAK HIV.PRV.DE18 "Date OAMT dose received"). */
export const OAMT = kind('oamt', prescription(code(METHADONE, BUPRENORPHINE)));
/** The dose of an OAMT prescription, mg (HIV.IND.14). */
export const DOSE_PATH = '$.dosageInstruction[0].doseAndRate[0].doseQuantity.value';

/** Syphilis test result (DAK HIV.B.DE250, HIV.D.DE802, HIV.G.DE70; RPR LOINC 20507-0). */
const SYPHILIS_CODE = code(dak('HIV.B.DE250', 'HIV.D.DE802', 'HIV.G.DE70'), loinc('20507-0'));
/** Positive / reactive (DAK HIV.B.DE251: SNOMED 165781001; SNOMED 11214006 reactive, 260373001 detected). */
const SYPHILIS_POSITIVE_VALUE = value(sct('165781001', '11214006', '260373001'), dak('HIV.B.DE251', 'HIV.D.DE803'));
export const SYPHILIS_TEST = kind('syphilis-test', observation(SYPHILIS_CODE));
export const SYPHILIS_POSITIVE = kind('syphilis-positive', observation(SYPHILIS_CODE, [SYPHILIS_POSITIVE_VALUE]));
/** Syphilis treatment started (DAK HIV.B.DE254) or benzathine benzylpenicillin prescribed. */
export const SYPHILIS_TREATMENT = kind(
  'syphilis-treatment',
  observation(code(dak('HIV.B.DE254', 'HIV.D.DE806'))),
  prescription(code(project(REGIMEN, 'sti-bpg'))),
);

/** HBsAg test (LOINC 39007-0; DAK HIV.D.DE162), positive DAK HIV.D.DE163 (SNOMED 165806002). */
const HBSAG_CODE = code(loinc('39007-0'), dak('HIV.D.DE162'));
export const HBSAG_TEST = kind('hbsag-test', observation(HBSAG_CODE));
export const HBSAG_POSITIVE = kind('hbsag-positive', observation(HBSAG_CODE, [value(sct('165806002', '260373001'), dak('HIV.D.DE163'))]));
/** Anti-HCV test (LOINC 48576-3; DAK HIV.D.DE170), positive DAK HIV.D.DE171 (SNOMED 314706002). */
const HCV_CODE = code(loinc('48576-3'), dak('HIV.D.DE170'));
export const HCV_TEST = kind('hcv-test', observation(HCV_CODE));
export const HCV_POSITIVE = kind('hcv-positive', observation(HCV_CODE, [value(sct('314706002', '260373001'), dak('HIV.D.DE171'))]));

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
