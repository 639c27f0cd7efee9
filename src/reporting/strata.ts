/**
 * From the store's cross-classified cells to the report's one-way stratifiers, and the additive
 * relations between them that complementary suppression must respect. Stratifier values follow the
 * WHO consolidated SI guidelines 2022 disaggregation (age 15–19, 20–24, 25–49, 50+; MER 2.6.1 five-
 * year bands), plus `<15` and `unknown` so that each stratifier partitions the population.
 */
import type { Cell } from './query';
import type { Line } from './suppression';

export const STRATIFIERS = ['age-band', 'age-band-mer', 'gender', 'key-population', 'organization', 'setting', 'provider-type'] as const;
export type Stratifier = (typeof STRATIFIERS)[number];

export const STRATIFIER_TEXT: Record<Stratifier, string> = {
  'age-band': 'Age at the end of the period (15–19, 20–24, 25–49, 50+)',
  'age-band-mer': 'Age at the end of the period, MER 2.6.1 five-year bands',
  gender: 'Patient.gender',
  'key-population': 'Key population member type (DAK HIV.B.DE50); several types count under the first in DAK order',
  organization: 'Organisation holding the record the unit is attributed to',
  setting: 'Facility or community, from the class of the encounter of that record',
  'provider-type': 'KP-led, public or private provider (Organization.type)',
};

/** MER bands and the coarse band each belongs to. */
const MER_BANDS: readonly [string, string][] = [
  ['<1', '<15'], ['1-4', '<15'], ['5-9', '<15'], ['10-14', '<15'], ['15-19', '15-19'], ['20-24', '20-24'],
  ['25-29', '25-49'], ['30-34', '25-49'], ['35-39', '25-49'], ['40-44', '25-49'], ['45-49', '25-49'],
  ['50-54', '50+'], ['55-59', '50+'], ['60-64', '50+'], ['65+', '50+'], ['unknown', 'unknown'],
];
const COARSE_OF = new Map(MER_BANDS);

/** Values every report lists, zero or not (organisations are listed as they occur). */
const FIXED: Record<Exclude<Stratifier, 'organization'>, readonly string[]> = {
  'age-band': ['<15', '15-19', '20-24', '25-49', '50+', 'unknown'],
  'age-band-mer': MER_BANDS.map(([b]) => b),
  gender: ['female', 'male', 'other', 'unknown'],
  'key-population': ['sex-worker', 'msm', 'transgender', 'pwid', 'prisoner', 'not-recorded'],
  setting: ['community', 'facility', 'unknown'],
  'provider-type': ['kp-led', 'public', 'private', 'unknown'],
};

/** A population count and its numerator. */
export interface Count {
  population: number;
  numerator: number;
}

/** Totals and one-way tables of one indicator. */
export interface Tables {
  total: Count;
  /** Per stratifier, value → count, in report order. */
  strata: Map<Stratifier, Map<string, Count>>;
  /** The provider type of each organisation seen. */
  providerOf: Map<string, string>;
}

/** The key of a stratum cell in the suppression tables. */
export const cellKey = (s: Stratifier, value: string): string => `${s}|${value}`;
export const TOTAL_KEY = 'total';

/** Sums the cells into the totals and one-way tables. */
export function tabulate(cells: readonly Cell[]): Tables {
  const strata = new Map<Stratifier, Map<string, Count>>();
  for (const s of STRATIFIERS) strata.set(s, new Map(s === 'organization' ? [] : FIXED[s].map((v) => [v, { population: 0, numerator: 0 }])));
  const total: Count = { population: 0, numerator: 0 };
  const providerOf = new Map<string, string>();
  for (const cell of cells) {
    const values: Record<Stratifier, string> = {
      'age-band': COARSE_OF.get(cell.ageBandMer) ?? 'unknown',
      'age-band-mer': cell.ageBandMer,
      gender: cell.gender,
      'key-population': cell.keyPopulation,
      organization: cell.organization,
      setting: cell.setting,
      'provider-type': cell.providerType,
    };
    providerOf.set(cell.organization, cell.providerType);
    total.population += cell.population;
    total.numerator += cell.numerator;
    for (const s of STRATIFIERS) {
      const table = strata.get(s)!;
      const c = table.get(values[s]) ?? { population: 0, numerator: 0 };
      c.population += cell.population;
      c.numerator += cell.numerator;
      table.set(values[s], c);
    }
  }
  const orgs = strata.get('organization')!;
  strata.set('organization', new Map([...orgs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  return { total, strata, providerOf };
}

/** The additive relations of the tables (see suppression.ts). */
export function linesOf(t: Tables): Line[] {
  const lines: Line[] = [];
  for (const [s, table] of t.strata) lines.push({ total: TOTAL_KEY, members: [...table.keys()].map((v) => cellKey(s, v)) });
  // Each coarse age band is the sum of its MER bands.
  for (const coarse of FIXED['age-band']) {
    lines.push({ total: cellKey('age-band', coarse), members: MER_BANDS.filter(([, c]) => c === coarse).map(([b]) => cellKey('age-band-mer', b)) });
  }
  // Each provider type is the sum of its organisations.
  for (const type of FIXED['provider-type']) {
    const orgs = [...t.providerOf].filter(([, p]) => p === type).map(([o]) => cellKey('organization', o));
    lines.push({ total: cellKey('provider-type', type), members: orgs });
  }
  return lines;
}

/** Every cell's value for one measure (population or numerator), keyed as in linesOf. */
export function valuesOf(t: Tables, pick: (c: Count) => number): Map<string, number> {
  const out = new Map<string, number>([[TOTAL_KEY, pick(t.total)]]);
  for (const [s, table] of t.strata) for (const [v, c] of table) out.set(cellKey(s, v), pick(c));
  return out;
}
