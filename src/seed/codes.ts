/**
 * Every code the synthetic programme writes and `$care-gaps` reads, in one place, so aligning
 * with the profiles (schemas/terminology/) and reporting (docs/reporting.md) engineers' choices is
 * one edit here. Sources: WHO HIV DAK annex A (/work/shared/who-hiv-dak/A.Data_dictionary, data
 * element ids in comments), LOINC, SNOMED CT and CVX. Codes with no agreed international code
 * use the project's own example CodeSystems (prefix PROJECT) rather than borrowed codes that
 * might mean something else.
 */
import type { Coding } from '@medplum/fhirtypes';

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';
export const CVX = 'http://hl7.org/fhir/sid/cvx';
/** WHO DAK concepts: codes are data element ids (shared/domain.md, "Codes"). */
export const DAK = 'http://smart.who.int/hiv/CodeSystem/HIVConcepts';
export const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
export const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
export const ORG_TYPE = 'http://terminology.hl7.org/CodeSystem/organization-type';
export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const DATA_ABSENT = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
export const TASK_CODE = 'http://hl7.org/fhir/CodeSystem/task-code';
export const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';
export const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

const PROJECT = 'https://linkcare.example.org/fhir';
/** Medicines by regimen (ART, PrEP, PEP, OST, STI treatment, emergency contraception). */
export const REGIMEN_SYSTEM = `${PROJECT}/CodeSystem/regimen`;
/** What a referral asks for (schemas/terminology/referral-service.codesystem.json). */
export const REFERRAL_SYSTEM = `${PROJECT}/CodeSystem/referral-service`;
/** Commodities handed out in outreach (schemas/terminology/commodity.codesystem.json). */
export const COMMODITY_SYSTEM = `${PROJECT}/CodeSystem/commodity`;
/** Kinds of contact (outreach, clinic visit, post-rape care). */
export const CONTACT_SYSTEM = `${PROJECT}/CodeSystem/contact-type`;
/** Kinds of episode the server maintains (docs/linkage.md). */
export const EPISODE_SYSTEM = `${PROJECT}/CodeSystem/episode-type`;
/** Extensions of the HIV care episode (docs/linkage.md). */
export const EXT_ART_START = `${PROJECT}/StructureDefinition/art-start-date`;
export const EXT_DAYS_TO_ART = `${PROJECT}/StructureDefinition/days-to-art`;
export const EXT_DIAGNOSIS = `${PROJECT}/StructureDefinition/hiv-diagnosis-date`;

const c = (system: string, code: string, display?: string): Coding => (display ? { system, code, display } : { system, code });

/** HIV rapid diagnostic test, one Observation per assay (LOINC 49905-3, DAK HIV.B.DE: "HIV test type" RDT). */
export const HIV_RDT = c(LOINC, '49905-3', 'HIV 1+2 Ab [Presence] in Blood by Rapid immunoassay');
/** Assay readings (schemas/terminology/hiv-assay-result.valueset.json). */
export const TEST_RESULT_SYSTEM = `${PROJECT}/CodeSystem/test-result`;
export const REACTIVE = c(TEST_RESULT_SYSTEM, 'reactive', 'Reactive');
export const NON_REACTIVE = c(TEST_RESULT_SYSTEM, 'non-reactive', 'Non-reactive');
/** Assay number as an Observation component (DAK HIV.B.DE88), valued DE90–93 (hiv-assay-number.valueset.json). */
export const ASSAY_NUMBER = c(DAK, 'HIV.B.DE88', 'Assay number');
export const ASSAY_NUMBERS = { A1: c(DAK, 'HIV.B.DE90', 'Assay 1'), A2: c(DAK, 'HIV.B.DE91', 'Assay 2'), A3: c(DAK, 'HIV.B.DE92', 'Assay 3'), 'A1-repeat': c(DAK, 'HIV.B.DE93', 'Assay 1 repeated') } as const;
/** The strategy's conclusion (DAK HIV.B.DE111 "HIV test result"), valued DE112–114 with the SNOMED codes of annex A beside them. */
export const HIV_CONCLUSION = c(DAK, 'HIV.B.DE111', 'HIV test result');
export const HIV_POSITIVE = c(SNOMED, '713742005', 'Human immunodeficiency virus antibody detected');
export const HIV_NEGATIVE = c(SNOMED, '165815009', 'HIV negative');
export const HIV_INCONCLUSIVE = c(SNOMED, '419984006', 'Inconclusive');
export const CONCLUSION_CODINGS = {
  positive: [c(DAK, 'HIV.B.DE112', 'HIV-positive'), HIV_POSITIVE],
  negative: [c(DAK, 'HIV.B.DE113', 'HIV-negative'), HIV_NEGATIVE],
  inconclusive: [c(DAK, 'HIV.B.DE114', 'HIV-inconclusive'), HIV_INCONCLUSIVE],
} as const;
/** Key population member type (DAK HIV.B.DE50), valued sex worker (DE51) or PWID. */
export const KEY_POPULATION = c(DAK, 'HIV.B.DE50', 'Key population member type');
export const SEX_WORKER = c(SNOMED, '449344001', 'Sex worker');
export const PWID = c(SNOMED, '226034001', 'Injecting drug user');

/** HIV viral load (LOINC 23876-6), copies/mL. */
export const VIRAL_LOAD = c(LOINC, '23876-6', 'HIV 1 RNA [#/volume] (viral load) in Plasma by Probe and target amplification method');
export const COPIES_PER_ML = { unit: 'copies/mL', system: UCUM, code: '{copies}/mL' } as const;
/** Days of supply, tablets handed out and milligrams of a dose (UCUM). */
export const DAYS = { unit: 'days', system: UCUM, code: 'd' } as const;
export const TABLETS = { unit: 'tablets', system: UCUM, code: '{tbl}' } as const;
export const MG = { unit: 'mg', system: UCUM, code: 'mg' } as const;
/** HIV infection diagnosis. */
export const HIV_INFECTION = c(SNOMED, '86406008', 'Human immunodeficiency virus infection');

/** TB symptom screen (W4SS, DAK HIV.D4.DT), positive / negative. */
export const TB_SCREEN = c(SNOMED, '171126009', 'Tuberculosis screening');
export const TB_SCREEN_POSITIVE = c(SNOMED, '10828004', 'Positive');
export const TB_SCREEN_NEGATIVE = c(SNOMED, '260385009', 'Negative');

/** Hepatitis B surface antigen and hepatitis C antibody. */
export const HBSAG = c(LOINC, '39007-0', 'Hepatitis B virus surface Ag [Presence] in Serum or Plasma');
export const ANTI_HCV = c(LOINC, '48576-3', 'Hepatitis C virus Ab [Presence] in Serum');
export const DETECTED = c(SNOMED, '260373001', 'Detected');
export const NOT_DETECTED = c(SNOMED, '260415000', 'Not detected');
/**
 * HBsAg as `$care-gaps` reads it: the LOINC/SNOMED codes above, and beside them the DAK codes of
 * the hepatitis-test profile (test HIV.D.DE405, positive HIV.D.DE163, negative HIV.D.DE164).
 */
export const HBSAG_CODINGS: readonly Coding[] = [HBSAG, c(DAK, 'HIV.D.DE405')];
export const HBSAG_POSITIVE_CODINGS: readonly Coding[] = [DETECTED, c(DAK, 'HIV.D.DE163')];
export const HBSAG_NEGATIVE_CODINGS: readonly Coding[] = [NOT_DETECTED, c(DAK, 'HIV.D.DE164')];
export const HEPATITIS_B = c(SNOMED, '66071002', 'Viral hepatitis type B');
export const HEPATITIS_C = c(SNOMED, '50711007', 'Viral hepatitis type C');
/** Hepatitis B vaccine: the project code (vaccine.valueset.json) and CVX 43 (adult dosage). */
export const HBV_VACCINE = c(`${PROJECT}/CodeSystem/vaccine`, 'hepb', 'Hepatitis B vaccine');
export const HBV_VACCINE_CVX = c(CVX, '43', 'hepatitis B vaccine, adult dosage');

/** Syphilis RPR and the STI diagnoses of the syndromic and aetiological episodes. */
export const SYPHILIS_RPR = c(LOINC, '20507-0', 'Reagin Ab [Presence] in Serum by RPR');
export const STI_DIAGNOSES = {
  syphilis: c(SNOMED, '76272004', 'Syphilis'),
  gonorrhoea: c(SNOMED, '15628003', 'Gonorrhea'),
  chlamydia: c(SNOMED, '105629000', 'Chlamydial infection'),
  'urethral-discharge': c(SNOMED, '22053006', 'Urethral discharge'),
  'vaginal-discharge': c(SNOMED, '271939006', 'Vaginal discharge'),
  'genital-ulcer': c(SNOMED, '399131003', 'Ulcer of genital organ'),
} as const;
export type StiDiagnosis = keyof typeof STI_DIAGNOSES;

/** Cervical cancer screening (DAK HIV.D.DE256 "Prevent and screen for cervical cancer"); test types DE659–661. */
export const CERVICAL_SCREENING = c(SNOMED, '171149006', 'Screening for malignant neoplasm of cervix');
export const CERVICAL_VIA = c(SNOMED, '252689003', 'Visual inspection with acetic acid'); // HIV.D.DE660
export const CERVICAL_HPV = c(SNOMED, '35904009', 'HPV DNA test'); // HIV.D.DE659

/**
 * Regimens, each as the codings of one concept: the DAK regimen code where annex A has one
 * (arv-regimen / prep-regimen value sets), the project OST code, and the project regimen code.
 */
const OST = `${PROJECT}/CodeSystem/ost-medication`;
export const REGIMENS = {
  'art-tld': [c(DAK, 'HIV.D.DE109', 'TDF + 3TC + DTG'), c(REGIMEN_SYSTEM, 'art-tld', 'ART: tenofovir/lamivudine/dolutegravir')],
  'prep-ftc-tdf': [c(DAK, 'HIV.C.DE18', 'TDF + FTC'), c(REGIMEN_SYSTEM, 'prep-ftc-tdf', 'Oral PrEP: emtricitabine/tenofovir disoproxil')],
  'pep-tld': [c(REGIMEN_SYSTEM, 'pep-tld', 'PEP: tenofovir/lamivudine/dolutegravir, 28 days')],
  'ost-methadone': [c(OST, 'methadone', 'Methadone'), c(REGIMEN_SYSTEM, 'ost-methadone', 'Opioid agonist therapy: methadone')],
  'ost-buprenorphine': [c(OST, 'buprenorphine', 'Buprenorphine'), c(REGIMEN_SYSTEM, 'ost-buprenorphine', 'Opioid agonist therapy: buprenorphine')],
  'sti-bpg': [c(REGIMEN_SYSTEM, 'sti-bpg', 'Benzathine benzylpenicillin 2.4 MU IM')],
  'sti-cro-azm': [c(REGIMEN_SYSTEM, 'sti-cro-azm', 'Ceftriaxone 1 g IM + azithromycin 1 g')],
  'sti-dox': [c(REGIMEN_SYSTEM, 'sti-dox', 'Doxycycline 100 mg twice daily, 7 days')],
  'ec-lng': [c(REGIMEN_SYSTEM, 'ec-lng', 'Emergency contraception: levonorgestrel 1.5 mg')],
} as const;
export type Regimen = keyof typeof REGIMENS;
/** Codings that mark a prescription as ART: every DAK ARV regimen (HIV.D.DE92–119) and the project code. */
export const ART_CODINGS: readonly Coding[] = [
  ...['HIV.D.DE92', 'HIV.D.DE99', 'HIV.D.DE105', 'HIV.D.DE106', 'HIV.D.DE108', 'HIV.D.DE109', 'HIV.D.DE110', 'HIV.D.DE119'].map((code) => c(DAK, code)),
  c(REGIMEN_SYSTEM, 'art-tld'),
];
export const PREP_CODINGS: readonly Coding[] = [...['HIV.C.DE18', 'HIV.C.DE19', 'HIV.C.DE20', 'HIV.C.DE21'].map((code) => c(DAK, code)), c(REGIMEN_SYSTEM, 'prep-ftc-tdf')];
export const OST_CODINGS: readonly Coding[] = [c(OST, 'methadone'), c(OST, 'buprenorphine'), c(REGIMEN_SYSTEM, 'ost-methadone'), c(REGIMEN_SYSTEM, 'ost-buprenorphine')];

/** What a referral asks for; `urgent` ones are the care-gap's "open urgent referrals". */
export const REFERRAL_TYPES = {
  'hiv-testing': 'Complete the HIV testing strategy after a reactive A1',
  'art-initiation': 'HIV care and treatment (ART initiation)',
  'tb-diagnostics': 'TB diagnostic evaluation after a positive screen',
  prep: 'PrEP initiation',
  'sti-treatment': 'STI examination and treatment',
  ost: 'Opioid agonist therapy',
  'violence-response': 'Violence support and legal aid',
  'mental-health': 'Mental-health follow-up',
  'hepatitis-treatment': 'Hepatitis B or C care',
} as const;
export type ReferralType = keyof typeof REFERRAL_TYPES;
/** The generic "patient referral" procedure, beside the project's referral type. */
export const PATIENT_REFERRAL = c(SNOMED, '3457005', 'Patient referral');

export const COMMODITIES = {
  'nsp-kit': c(COMMODITY_SYSTEM, 'needle-syringe', 'Needles and syringes'),
  naloxone: c(COMMODITY_SYSTEM, 'naloxone', 'Naloxone'),
  condoms: c(COMMODITY_SYSTEM, 'condom', 'Condoms'),
} as const;

export const CONTACTS = {
  outreach: c(CONTACT_SYSTEM, 'outreach-contact', 'Outreach contact'),
  clinic: c(CONTACT_SYSTEM, 'clinic-visit', 'Clinic visit'),
  'post-rape-care': c(CONTACT_SYSTEM, 'post-rape-care', 'Post-rape care (SWIT 5.7)'),
} as const;

/** The episode the server keeps per diagnosed client and organisation (docs/linkage.md). */
export const HIV_CARE_EPISODE = c(EPISODE_SYSTEM, 'hiv-care', 'HIV care and treatment');

/** Consent category: privacy consent (LOINC 59284-0, IHE Privacy Consent on FHIR). */
export const PRIVACY_CONSENT = c(LOINC, '59284-0', 'Patient Consent');
