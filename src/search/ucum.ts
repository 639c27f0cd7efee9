/**
 * A small UCUM conversion table for quantity search (http://hl7.org/fhir/R4/search.html#quantity):
 * stored quantities also carry a canonical value and unit so that `1 mg` matches a search for `0.001 g`.
 * Only the units this service records are listed; anything else is indexed as written.
 * Units: https://ucum.org/ucum
 */

/** The UCUM code system URI. */
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';

interface Unit {
  factor: number;
  canonical: string;
}

const YEAR_SECONDS = 365.25 * 86_400;

// Listed as [canonical, [code, factor to canonical]...] so each dimension reads as one line of units.
const DIMENSIONS: [string, [string, number][]][] = [
  ['g', [['kg', 1e3], ['g', 1], ['mg', 1e-3], ['ug', 1e-6], ['ng', 1e-9], ['[lb_av]', 453.59237]]],
  // UCUM accepts both `L` and `l` for the litre.
  ['L', [['L', 1], ['dL', 0.1], ['mL', 1e-3], ['uL', 1e-6], ['l', 1], ['dl', 0.1], ['ml', 1e-3], ['ul', 1e-6]]],
  [
    's',
    [['a', YEAR_SECONDS], ['mo', YEAR_SECONDS / 12], ['wk', 604_800], ['d', 86_400], ['h', 3_600], ['min', 60], ['s', 1], ['ms', 1e-3]],
  ],
  ['mol', [['mol', 1], ['mmol', 1e-3], ['umol', 1e-6], ['nmol', 1e-9]]],
  [
    'g/L',
    [['g/L', 1], ['g/dL', 10], ['mg/dL', 1e-2], ['mg/L', 1e-3], ['ug/mL', 1e-3], ['ug/L', 1e-6], ['ng/mL', 1e-6]],
  ],
  // Counts per volume; annotated units ({copies}/mL, {cells}/uL) reach these through withoutAnnotations.
  [
    '/L',
    [['/L', 1], ['/mL', 1e3], ['/uL', 1e6], ['10*3/uL', 1e9], ['10*6/uL', 1e12], ['10*9/L', 1e9], ['10*12/L', 1e12]],
  ],
  ['mol/L', [['mol/L', 1], ['mmol/L', 1e-3], ['umol/L', 1e-6], ['nmol/L', 1e-9]]],
  ['m', [['km', 1e3], ['m', 1], ['cm', 1e-2], ['mm', 1e-3], ['[in_i]', 0.0254]]],
  // Celsius is an offset scale; it is its own canonical so that only like-for-like comparisons happen.
  ['Cel', [['Cel', 1]]],
];

const UNITS = new Map<string, Unit>();
for (const [canonical, units] of DIMENSIONS) {
  for (const [code, factor] of units) UNITS.set(code, { factor, canonical });
}

/**
 * Converts a UCUM quantity to its canonical unit, or undefined when the code is not in the table.
 * Callers check that the system is UCUM (http://hl7.org/fhir/R4/search.html#quantity).
 */
export function toCanonical(value: number, code: string): { value: number; code: string } | undefined {
  const unit = UNITS.get(code) ?? UNITS.get(withoutAnnotations(code));
  if (!unit || !Number.isFinite(value)) return undefined;
  return { value: roundSignificant(value * unit.factor), code: unit.canonical };
}

/**
 * The code without its curly-brace annotations, which UCUM defines as unity (`{copies}/mL` is
 * `/mL`: https://ucum.org/ucum, §12 "curly braces").
 */
function withoutAnnotations(code: string): string {
  return code.replace(/\{[^{}]*\}/g, '');
}

// Binary floating point turns 0.1 * 3 into 0.30000000000000004; equality searches need the decimal value.
function roundSignificant(n: number): number {
  return n === 0 ? 0 : Number(n.toPrecision(12));
}
