/**
 * Small-cell suppression for released figures: counts from 1 to the threshold are masked (primary
 * suppression), then further cells are masked (complementary suppression) until no masked cell can
 * be recovered by subtracting the shown cells from a shown total. Each "line" is one additive
 * relation of the report: a total and the cells that partition it (a stratifier's strata and the
 * overall count; a five-year MER band group and its coarse age band; the organisations of one
 * provider type). Zero is shown: it reveals no one. The population minus the numerator is a count
 * as well (smallComplements).
 */

/**
 * Cells whose numerator must be masked with the small ones although it is not small itself: where
 * both figures would be shown and the population minus the numerator (the clients not linked, not
 * suppressed…) is from 1 to the threshold, the two shown figures would give that small count away.
 */
export function smallComplements(population: ReadonlyMap<string, number>, numerator: ReadonlyMap<string, number>, maskedPopulation: ReadonlySet<string>, threshold: number): string[] {
  const out: string[] = [];
  for (const [key, p] of population) {
    const rest = p - (numerator.get(key) ?? 0);
    if (!maskedPopulation.has(key) && rest >= 1 && rest <= threshold) out.push(key);
  }
  return out;
}

/** An additive relation: `total` equals the sum of `members`. Keys name cells of the same table. */
export interface Line {
  total: string;
  members: readonly string[];
}

/**
 * The cells to mask. Deterministic (ties broken by key), so equal tables (e.g. initial population
 * and denominator) are masked alike and one cannot be used to undo the other.
 */
export function suppressCells(counts: ReadonlyMap<string, number>, lines: readonly Line[], threshold: number, alsoMask: Iterable<string> = []): Set<string> {
  const masked = new Set<string>(alsoMask);
  for (const [key, n] of counts) if (n >= 1 && n <= threshold) masked.add(key);
  const value = (k: string): number => counts.get(k) ?? 0;
  let changed = true;
  while (changed) {
    changed = false;
    for (const line of lines) {
      const cells = [line.total, ...line.members];
      const hidden = cells.filter((k) => masked.has(k)).length;
      // One hidden cell in a line equals the total minus the others (or the sum of the members).
      if (hidden !== 1) continue;
      const pick = complement(line, masked, value);
      if (pick === undefined) continue;
      masked.add(pick);
      changed = true;
    }
  }
  return masked;
}

/** The cell to mask with the single masked one: the smallest shown member (non-zero first), else the total. */
function complement(line: Line, masked: ReadonlySet<string>, value: (k: string) => number): string | undefined {
  const shown = line.members.filter((k) => !masked.has(k));
  const order = (a: string, b: string): number => {
    const za = value(a) === 0 ? 1 : 0;
    const zb = value(b) === 0 ? 1 : 0;
    return za - zb || value(a) - value(b) || (a < b ? -1 : a > b ? 1 : 0);
  };
  const member = shown.sort(order)[0];
  if (member !== undefined) return member;
  return masked.has(line.total) ? undefined : line.total;
}
