/**
 * The indicators linkcare reports: WHO HIV DAK indicators the data supports
 * (/work/shared/who-hiv-dak/C.Indicators_table/Indicator_definitions.tsv, cited by DAK id and
 * reference number) and the project's own referral completion rate. Numerator and denominator
 * texts summarise the DAK's "Numerator/Denominator calculation" columns; `alignment` is its
 * GAM2023 / GF / MER 2.6.1 columns. docs/reporting.md says which records each one counts.
 */
import * as c from './codes';
import type { Condition, EventKind, PopulationQuery, Window } from './query';

export interface Indicator {
  /** Measure id: the DAK indicator id, or LC.* for the project's own. */
  id: string;
  /** DAK reference number (e.g. HTS.4). */
  ref?: string;
  title: string;
  /** proportion: numerator over denominator; cohort: a count (the DAK denominator is 1 or an external estimate). */
  scoring: 'proportion' | 'cohort';
  numerator: string;
  denominator?: string;
  alignment: { mer?: string; gam?: string; gf?: string };
  /** Notes on how the DAK definition is read from linkcare's records. */
  notes?: string;
  population: PopulationQuery;
}

const exists = (event: EventKind, window: Window): Condition => ({ kind: 'exists', event, window });
const not = (of: Condition): Condition => ({ kind: 'not', of });
const clients = (anchor: EventKind, rest: Partial<PopulationQuery> = {}): PopulationQuery => ({ unit: 'client', anchor, anchorWindow: 'period', pick: 'first', ...rest });
const NEW_ON_ART: Condition = not(exists(c.ART_START, 'before-start'));

/** Every indicator, in report order. */
export const INDICATORS: readonly Indicator[] = [
  {
    id: 'HIV.IND.2', ref: 'PRV.2', title: 'Total PrEP recipients', scoring: 'cohort',
    numerator: 'Clients with PrEP prescribed (Medications prescribed = PrEP for HIV prevention) in the period, counted once',
    alignment: { gam: 'GAM2023 1.11', mer: 'Similar to PrEP_CT; PrEP_NEW when disaggregated by first-time users' },
    population: clients(c.PREP),
  },
  {
    id: 'HIV.IND.5', ref: 'PRV.5', title: 'Number of PEP recipients', scoring: 'cohort',
    numerator: 'Clients with PEP prescribed (Medications prescribed = PEP for HIV prevention) in the period',
    alignment: {},
    population: clients(c.PEP),
  },
  {
    id: 'HIV.IND.6', ref: 'PRV.6', title: 'PEP completion', scoring: 'proportion',
    numerator: 'Of the denominator, clients with a PEP course completion date in the period',
    denominator: `Clients with PEP prescribed in the period, excluding those whose ${c.PEP_COURSE_DAYS}-day course is due to be completed after the period end`,
    alignment: {},
    notes: `The DAK's denominator definition excludes courses due after the period end: the due date is the ${c.PEP_COURSE_DAYS}th day of the course, counted from the prescription date (its first day).`,
    // A client is attributed to their first PEP prescription due by the period end.
    population: clients(c.PEP, { anchorWindow: { courseDays: c.PEP_COURSE_DAYS }, numerator: [exists(c.PEP_COMPLETED, 'period')] }),
  },
  {
    id: 'HIV.IND.8', ref: 'PRV.8', title: 'NSP coverage', scoring: 'proportion',
    numerator: 'Clients of key population type PWID provided with injecting equipment in the period',
    denominator: 'Clients of key population type PWID (programme level: those in contact with the service in the period)',
    alignment: {},
    notes: 'Denominator at programme level only; the population-level denominator is an estimate outside the data.',
    population: clients(c.CONTACT, { require: [exists(c.KP_PWID, 'to-end')], numerator: [exists(c.NSP, 'period')] }),
  },
  {
    id: 'HIV.IND.11', ref: 'PRV.11', title: 'OAMT coverage', scoring: 'proportion',
    numerator: 'Clients of key population type PWID currently on OAMT (an OAMT prescription in the period)',
    denominator: 'Opioid-dependent people accessing the service (PWID clients in contact in the period)',
    alignment: { gam: 'GAM2023 1.10', gf: 'Related to GF KP-5', mer: 'Related to KP_MAT' },
    population: clients(c.CONTACT, { require: [exists(c.KP_PWID, 'to-end')], numerator: [exists(c.OAMT, 'period')] }),
  },
  {
    id: 'HIV.IND.14', ref: 'PRV.14', title: 'OAMT minimum dose', scoring: 'proportion',
    numerator: 'Clients on methadone ≥ 60 mg or buprenorphine ≥ 8 mg (latest prescription in the period)',
    denominator: 'Clients prescribed methadone or buprenorphine in the period',
    alignment: {},
    notes: 'Induction and dose-reduction phases are not recorded, so the DAK exclusion is not applied.',
    population: clients(c.OAMT, {
      pick: 'last',
      numerator: [{ kind: 'any', of: [
        { kind: 'all', of: [{ kind: 'anchor-code', code: { param: 'code', codes: c.METHADONE } }, { kind: 'anchor-number', path: c.DOSE_PATH, ge: 60 }] },
        { kind: 'all', of: [{ kind: 'anchor-code', code: { param: 'code', codes: c.BUPRENORPHINE } }, { kind: 'anchor-number', path: c.DOSE_PATH, ge: 8 }] },
      ] }],
    }),
  },
  {
    id: 'HIV.IND.19', ref: 'HTS.2', title: 'HTS test volume and positivity', scoring: 'proportion',
    numerator: 'HIV tests with result HIV-positive returned in the period (self-tests excluded)',
    denominator: 'HIV tests with results returned in the period (self-tests excluded)',
    alignment: { gam: 'GAM2023 2.5', gf: 'Similar to GF HTS-4' },
    notes: 'Counts tests, not clients.',
    population: { unit: 'event', anchor: c.HIV_TEST, anchorWindow: 'period', numerator: [{ kind: 'anchor-code', code: c.HIV_POSITIVE }] },
  },
  {
    id: 'HIV.IND.20', ref: 'HTS.3', title: 'Individuals testing positive for HIV', scoring: 'proportion',
    numerator: 'Clients with an HIV-positive test result in the period',
    denominator: 'Clients tested for HIV with results returned in the period',
    alignment: { mer: 'Numerator is HTS_TST_POS, denominator is HTS_TST' },
    population: clients(c.HIV_TEST, { numerator: [exists(c.HIV_TEST_POSITIVE, 'period')] }),
  },
  {
    id: 'HIV.IND.21', ref: 'HTS.4', title: 'Linkage to ART', scoring: 'proportion',
    numerator: 'Clients informed of an HIV-positive diagnosis in the period who started ART in the period',
    denominator: 'Clients informed of an HIV-positive diagnosis in the period',
    alignment: { gf: 'GF HTS-5', mer: 'Numerator is TX_NEW' },
    population: clients(c.HIV_TEST_POSITIVE, { numerator: [exists(c.ART_START, 'period')] }),
  },
  {
    id: 'HIV.IND.27', ref: 'ART.1', title: 'People living with HIV on ART', scoring: 'cohort',
    numerator: `Clients on ART at the end of the period: ART started by then, no later outcome lost to follow-up, transferred out, died or stopped, and not lost to follow-up by supply (latest ARV prescription or dispense run out more than ${c.ART_LATE_DAYS} days before the period end)`,
    alignment: { gam: 'GAM2023 2.2, similar to GAM2023 2.6', gf: 'GF TCS-1', mer: 'TX_CURR' },
    notes:
      `The denominator (estimated people living with HIV) is outside the data. Attributed to the organisation of the latest ART record. ` +
      `Lost to follow-up is the DAK's "more than ${c.ART_LATE_DAYS} days after the last missed appointment" (HIV.IND.28 ART.2), the appointment being the expected pick-up: ` +
      `the latest ART prescription (authoredOn + dispenseRequest.expectedSupplyDuration) or dispense (whenHandedOver + daysSupply). ` +
      'A client whose latest one records no days supplied (or who has none) has no expected pick-up date: only a recorded outcome removes them.',
    population: clients(c.ART_START, {
      anchorWindow: 'to-end',
      pick: 'last',
      require: [not(exists(c.TREATMENT_EXIT, 'since-anchor')), { kind: 'supply-current', event: c.ART_START, types: c.ART_SUPPLY_TYPES, param: c.SUPPLY_END_PARAM, lateDays: c.ART_LATE_DAYS }],
    }),
  },
  {
    id: 'HIV.IND.29', ref: 'ART.3', title: 'People living with HIV on ART who have suppressed viral load', scoring: 'proportion',
    numerator: 'Of the denominator, clients whose latest viral load in the period is below 1000 copies/mL',
    denominator: 'Clients on ART for more than 6 months at the period end with a viral load sample collected in the period',
    alignment: { gam: 'GAM2023 2.3', gf: 'Similar to GF HIV O-12', mer: 'Similar to TX_PVLS' },
    notes: 'The reason for the viral load test (routine) is not recorded as a searchable element; every viral load counts.',
    population: clients(c.VIRAL_LOAD, { pick: 'last', require: [exists(c.ART_START, { monthsBeforeEnd: 6 })], numerator: [{ kind: 'anchor-quantity', param: 'value-quantity', lt: 1000 }] }),
  },
  {
    id: 'HIV.IND.30', ref: 'ART.4', title: 'New ART patients', scoring: 'cohort',
    numerator: 'Clients who started ART in the period (no earlier ART start)',
    alignment: { gf: 'Related to GF HTS-5', mer: 'TX_NEW' },
    population: clients(c.ART_START, { require: [NEW_ON_ART] }),
  },
  {
    id: 'HIV.IND.48', ref: 'DFT.1', title: 'TB screening coverage among new ART patients', scoring: 'proportion',
    numerator: 'New ART patients (first-time ART start in the period) screened for TB in the period',
    denominator: 'Clients living with HIV who started ART for the first time in the period',
    alignment: { mer: 'Related to denominator of TX_TB' },
    population: clients(c.ART_START, { require: [NEW_ON_ART], numerator: [exists(c.TB_SCREEN, 'period')] }),
  },
  {
    id: 'HIV.IND.58', ref: 'STI.1A', title: 'Syphilis testing coverage, HIV prevention services', scoring: 'proportion',
    numerator: 'Clients with a syphilis test in the period',
    denominator: 'Clients who accessed HIV prevention services (any contact) in the period',
    alignment: {},
    population: clients(c.CONTACT, { numerator: [exists(c.SYPHILIS_TEST, 'period')] }),
  },
  {
    id: 'HIV.IND.62', ref: 'STI.2A', title: 'Syphilis test positivity, HIV prevention services', scoring: 'proportion',
    numerator: 'Clients with a positive syphilis test in the period',
    denominator: 'Clients with a syphilis test in the period',
    alignment: { gam: 'Similar to GAM2023 7.4' },
    population: clients(c.SYPHILIS_TEST, { numerator: [exists(c.SYPHILIS_POSITIVE, 'period')] }),
  },
  {
    id: 'HIV.IND.66', ref: 'STI.3A', title: 'Syphilis treatment coverage, HIV prevention services', scoring: 'proportion',
    numerator: 'Clients with a positive syphilis test in the period whose syphilis treatment started in the period',
    denominator: 'Clients with a positive syphilis test in the period',
    alignment: {},
    population: clients(c.SYPHILIS_POSITIVE, { numerator: [exists(c.SYPHILIS_TREATMENT, 'period')] }),
  },
  {
    id: 'HIV.IND.80', ref: 'HEP.1A', title: 'HBV test coverage, HIV prevention services', scoring: 'proportion',
    numerator: 'Clients with an HBsAg test in the period',
    denominator: 'Clients who accessed HIV prevention services (any contact) in the period',
    alignment: {},
    population: clients(c.CONTACT, { numerator: [exists(c.HBSAG_TEST, 'period')] }),
  },
  {
    id: 'HIV.IND.83', ref: 'HEP.2A', title: 'HCV test coverage, HIV prevention services', scoring: 'proportion',
    numerator: 'Clients with an HCV test in the period',
    denominator: 'Clients who accessed HIV prevention services (any contact) in the period',
    alignment: { gam: 'Related to GAM2023 7.2' },
    population: clients(c.CONTACT, { numerator: [exists(c.HCV_TEST, 'period')] }),
  },
  {
    id: 'HIV.IND.85', ref: 'HEP.3A', title: 'HBsAg positivity, HIV prevention services', scoring: 'proportion',
    numerator: 'Clients with an HBsAg-positive result in the period',
    denominator: 'Clients with an HBsAg test in the period',
    alignment: { gam: 'Related to GAM2023 7.1' },
    population: clients(c.HBSAG_TEST, { numerator: [exists(c.HBSAG_POSITIVE, 'period')] }),
  },
  {
    id: 'HIV.IND.88', ref: 'HEP.4A', title: 'HCV positivity, HIV prevention services', scoring: 'proportion',
    numerator: 'Clients with an HCV-positive result in the period',
    denominator: 'Clients with an HCV test in the period',
    alignment: { gam: 'Related to GAM2023 7.1' },
    population: clients(c.HCV_TEST, { numerator: [exists(c.HCV_POSITIVE, 'period')] }),
  },
  {
    id: 'LC.REFERRAL.COMPLETION', title: 'Referral completion rate', scoring: 'proportion',
    numerator: 'Referrals made in the period whose Task is completed',
    denominator: 'Referrals (Task, code fulfill) made in the period, not drafts, cancelled or entered in error',
    alignment: {},
    notes: 'Project indicator (closed-loop referrals); DAK HIV.IND.139 "Documented referral & linkage to care" is not defined in the DAK.',
    population: { unit: 'event', anchor: c.REFERRAL, anchorWindow: 'period', numerator: [{ kind: 'anchor-code', code: c.TASK_COMPLETED }] },
  },
];

const BY_ID = new Map(INDICATORS.map((i) => [i.id, i]));

/** The indicator with this Measure id, if any. */
export function indicatorById(id: string): Indicator | undefined {
  return BY_ID.get(id);
}
