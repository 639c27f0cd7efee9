/**
 * SQL fragments the report statements are assembled from (report-sql.ts, report-events.ts): text
 * with positional arguments, and the code-index sets every report reads.
 */
import type { Code } from '../../reporting/query';

/** A SQL fragment and its positional arguments. */
export interface Frag {
  sql: string;
  args: unknown[];
}

/** A named statement of an evaluation (names are for bench/reporting.ts and the plan tests). */
export interface Step {
  name: string;
  sql: Frag;
}

/** A fragment from text and its arguments. */
export const frag = (sql: string, ...args: unknown[]): Frag => ({ sql, args });

/** The fragments joined by `sep`, their arguments in order. */
export function join(parts: Frag[], sep: string): Frag {
  return { sql: parts.map((p) => p.sql).join(sep), args: parts.flatMap((p) => p.args) };
}

/**
 * Rows (rid, rk) of the index rows of a token parameter carrying each value's codes, `rk` being the
 * value's index: one exact range of the covering (param, code, system, rid) index per code (an OR
 * of codes would scan the whole parameter).
 */
export function rankedRids(param: string, values: readonly { codes: readonly Code[] }[]): Frag {
  const parts = values.flatMap((v, i) =>
    v.codes.map((c) =>
      c.system === undefined
        ? frag(`SELECT rid, ${i} AS rk FROM idx_token WHERE param = ? AND code = ?`, param, c.code)
        : frag(`SELECT rid, ${i} AS rk FROM idx_token WHERE param = ? AND code = ? AND system = ?`, param, c.code, c.system),
    ),
  );
  return parts.length ? join(parts, ' UNION ALL ') : frag('SELECT NULL AS rid, NULL AS rk WHERE 0');
}

/** The rids of the resources whose `param` carries one of the codes (duplicates possible). */
export const ridsWith = (param: string, codes: readonly Code[]): Frag => {
  const u = rankedRids(param, [{ codes }]);
  return frag(`SELECT rid FROM (${u.sql})`, ...u.args);
};

/** The negation of a condition. */
export const not = (f: Frag): Frag => frag(`NOT (${f.sql})`, ...f.args);

/** SQL string literal. */
export const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
