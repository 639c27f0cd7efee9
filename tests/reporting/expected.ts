/**
 * Hand-computed expectations for fixtures/reporting/programme.json over 2024-01-01..2024-12-31.
 * Clients: c1 (1999, female, sex worker, org-kp), c2 (2006-03 → 18, female, SW, org-kp),
 * c3 (1970-05-05 → 54, male, PWID, org-clinic), c4 (2002-12-31 → 22, female, SW + PWID → SW, org-kp),
 * c5 (1990-01-01 → 34, other, transgender, org-clinic), c6 (no birth date or gender, no KP, org-clinic);
 * on ART since before 2024, with ARV supplies only, no KP, org-clinic: c7 (1985-06-01 → 39, female),
 * c8 (1992-02-02 → 32, male), c9 (1998-02-02 → 26, female).
 * Each entry: [population, numerator] for the total and the listed strata; with `complete`, every
 * stratum not listed is zero.
 */
export type Pair = [number, number];
export interface Expected {
  total: Pair;
  strata: Record<string, Pair>;
  complete?: boolean;
}

export const EXPECTED: Record<string, Expected> = {
  // PrEP: c1 (twice, counted once; first at enc-kp-1, community), c5 (clinic, facility).
  'HIV.IND.2': { total: [2, 2], strata: { 'organization|org-kp': [1, 1], 'organization|org-clinic': [1, 1], 'setting|community': [1, 1], 'setting|facility': [1, 1], 'age-band|25-49': [2, 2], 'gender|female': [1, 1], 'gender|other': [1, 1] } },
  // PEP: c4 (completed prescription), c5 (active), c1 (TLD with reason PEP, as the pep-prescription profile records it; not ART).
  'HIV.IND.5': { total: [3, 3], strata: { 'organization|org-kp': [2, 2], 'organization|org-clinic': [1, 1], 'age-band|20-24': [1, 1], 'age-band|25-49': [2, 2] } },
  // c1's course (2024-12-10) is due 2025-01-06, after the period end: not in the denominator (DAK PRV.6).
  'HIV.IND.6': { total: [2, 1], strata: { 'organization|org-kp': [1, 1], 'organization|org-clinic': [1, 0] } },
  // PWID in contact: c3 (clinic), c4 (kp; counted as sex worker by DAK order); NSP kit to c4 only.
  'HIV.IND.8': { total: [2, 1], strata: { 'organization|org-kp': [1, 1], 'organization|org-clinic': [1, 0], 'key-population|sex-worker': [1, 1], 'key-population|pwid': [1, 0] } },
  // OAMT in the period: c3 (methadone), c4 (buprenorphine).
  'HIV.IND.11': { total: [2, 2], strata: { 'organization|org-kp': [1, 1], 'organization|org-clinic': [1, 1] } },
  // Latest OAMT: c3 methadone 40 mg (< 60), c4 buprenorphine 8 mg (≥ 8).
  'HIV.IND.14': { total: [2, 1], strata: { 'organization|org-kp': [1, 1], 'organization|org-clinic': [1, 0], 'setting|unknown': [2, 1] } },
  // Tests (events): c1 ×2, c2+, c3+, c4 ×2 (second +), c5; c6's 2023 test, entered-in-error test and c5's declined test excluded.
  'HIV.IND.19': {
    total: [7, 3],
    complete: true,
    strata: {
      'organization|org-kp': [4, 2], 'organization|org-clinic': [3, 1], 'setting|community': [3, 1], 'setting|facility': [2, 1], 'setting|unknown': [2, 1],
      'gender|female': [5, 2], 'gender|male': [1, 1], 'gender|other': [1, 0], 'age-band|15-19': [1, 1], 'age-band|20-24': [2, 1], 'age-band|25-49': [3, 0],
      'age-band|50+': [1, 1], 'age-band-mer|15-19': [1, 1], 'age-band-mer|20-24': [2, 1], 'age-band-mer|25-29': [2, 0], 'age-band-mer|30-34': [1, 0], 'age-band-mer|50-54': [1, 1], 'key-population|sex-worker': [5, 2],
      'key-population|pwid': [1, 1], 'key-population|transgender': [1, 0], 'provider-type|kp-led': [4, 2], 'provider-type|public': [3, 1],
    },
  },
  // Clients tested: c1, c2+, c3+, c4+ (attributed to the first test), c5.
  'HIV.IND.20': {
    total: [5, 3],
    complete: true,
    strata: {
      'organization|org-kp': [3, 2], 'organization|org-clinic': [2, 1], 'setting|community': [3, 2], 'setting|facility': [2, 1], 'gender|female': [3, 2],
      'gender|male': [1, 1], 'gender|other': [1, 0], 'age-band|15-19': [1, 1], 'age-band|20-24': [1, 1], 'age-band|25-49': [2, 0], 'age-band|50+': [1, 1],
      'key-population|sex-worker': [3, 2], 'key-population|pwid': [1, 1], 'key-population|transgender': [1, 0], 'provider-type|kp-led': [3, 2], 'provider-type|public': [2, 1],
      'age-band-mer|15-19': [1, 1], 'age-band-mer|20-24': [1, 1], 'age-band-mer|25-29': [1, 0], 'age-band-mer|30-34': [1, 0], 'age-band-mer|50-54': [1, 1],
    },
  },
  // Diagnosed in 2024: c2, c3, c4; ART started in 2024: c2 (Observation), c3 (prescription).
  'HIV.IND.21': { total: [3, 2], strata: { 'organization|org-kp': [2, 1], 'organization|org-clinic': [1, 1], 'setting|unknown': [1, 0] } },
  // On ART at the end (DAK HIV.IND.27; lost to follow-up > 28 days after the expected pick-up, HIV.IND.28):
  // c2 (ART start Observation) and c3 (prescription without days supplied): no expected pick-up date;
  // c7: last dispense 2024-09-04 + 90 d → due 2024-12-03, 28 days late on 2024-12-31: still on ART;
  // c9: latest prescription 2024-11-01 + 8 wk → due 2024-12-27 (its 30-day one of 2024-01-15 is not the latest).
  // Not: c6 (outcome lost to follow-up recorded); c8: dispense 2024-09-03 + 90 d → due 2024-12-02, 29 days late.
  'HIV.IND.27': {
    total: [4, 4],
    complete: true,
    strata: {
      'organization|org-clinic': [4, 4], 'provider-type|public': [4, 4], 'setting|unknown': [4, 4], 'gender|female': [3, 3], 'gender|male': [1, 1],
      'age-band|15-19': [1, 1], 'age-band|25-49': [2, 2], 'age-band|50+': [1, 1], 'age-band-mer|15-19': [1, 1], 'age-band-mer|25-29': [1, 1],
      'age-band-mer|35-39': [1, 1], 'age-band-mer|50-54': [1, 1], 'key-population|sex-worker': [1, 1], 'key-population|pwid': [1, 1],
      'key-population|not-recorded': [2, 2],
    },
  },
  // VL in 2024 and ART ≥ 6 months: c6 (500), c2 (50), c3 (latest 20000).
  'HIV.IND.29': { total: [3, 2], strata: { 'organization|org-clinic': [3, 2], 'age-band|unknown': [1, 1], 'gender|unknown': [1, 1], 'key-population|not-recorded': [1, 1] } },
  'HIV.IND.30': { total: [2, 2], strata: { 'organization|org-clinic': [2, 2] } },
  'HIV.IND.48': { total: [2, 1], strata: { 'organization|org-clinic': [2, 1], 'age-band|50+': [1, 1], 'age-band|15-19': [1, 0] } },
  // Contacts in 2024: c1, c2, c4 (kp), c3, c5 (clinic). Syphilis tests: c1+, c2−, c5+; treatment: c1 (BPG), c5 (DAK HIV.B.DE254
  // with LOINC 63936-9, which is no ART start for c5).
  'HIV.IND.58': { total: [5, 3], strata: { 'organization|org-kp': [3, 2], 'organization|org-clinic': [2, 1] } },
  'HIV.IND.62': { total: [3, 2], strata: { 'organization|org-kp': [2, 1], 'organization|org-clinic': [1, 1] } },
  'HIV.IND.66': { total: [2, 2], strata: { 'organization|org-kp': [1, 1], 'organization|org-clinic': [1, 1] } },
  // HBsAg: c3 (detected), c4 (negative). Anti-HCV: c3 (positive).
  'HIV.IND.80': { total: [5, 2], strata: { 'organization|org-kp': [3, 1], 'organization|org-clinic': [2, 1] } },
  'HIV.IND.83': { total: [5, 1], strata: { 'organization|org-kp': [3, 0], 'organization|org-clinic': [2, 1] } },
  'HIV.IND.85': { total: [2, 1], strata: { 'organization|org-kp': [1, 0], 'organization|org-clinic': [1, 1] } },
  'HIV.IND.88': { total: [1, 1], strata: { 'organization|org-clinic': [1, 1] } },
  // Referrals: c2 completed, c4 in progress (kp), c5 completed (clinic); c1's cancelled one excluded.
  'LC.REFERRAL.COMPLETION': { total: [3, 2], strata: { 'organization|org-kp': [2, 1], 'organization|org-clinic': [1, 1] } },
};

/** org-kp's own report of HIV.IND.20: only its tests (c1, c2, c4). */
export const ORG_KP_IND20: Pair = [3, 2];

/**
 * HIV.IND.27 at other period ends (c2, c3 and c9 on ART throughout): on 2024-12-30 c8 is 28 days late
 * (still on ART); on 2025-01-01 c7 is 29 days late (lost to follow-up).
 */
export const IND27_BY_END: Record<string, Pair> = { '2024-12-30': [5, 5], '2025-01-01': [3, 3] };
