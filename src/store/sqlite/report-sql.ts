/**
 * Indicator queries on the embedded store (src/reporting/query.ts): one SQL statement per
 * population that picks the anchor events from the index tables, applies the conditions as
 * correlated EXISTS probes (driven by `resources.patient`), derives the strata and aggregates with
 * GROUP BY, so only the cell counts leave SQLite. docs/reporting.md describes the data read.
 */
import type Database from 'better-sqlite3';
import {
  type Cell,
  type Code,
  type CodeSource,
  type Condition,
  type EventSource,
  EXCLUDED_STATUSES,
  type IndicatorQueries,
  type PopulationQuery,
  type ReportScope,
  type StrataSpec,
  type Window,
} from '../../reporting/query';

/** A SQL fragment and its positional arguments. */
interface Frag {
  sql: string;
  args: unknown[];
}

const frag = (sql: string, ...args: unknown[]): Frag => ({ sql, args });

function join(parts: Frag[], sep: string): Frag {
  return { sql: parts.map((p) => p.sql).join(sep), args: parts.flatMap((p) => p.args) };
}

/** ISO instant of the first moment of a date (UTC). */
const dayStart = (date: string): string => `${date}T00:00:00.000Z`;

/** The date `days` after `date` (YYYY-MM-DD). */
function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The date `months` before `date`, clamped to the month's last day (2024-08-31 − 6 months = 2024-02-29). */
function monthsBefore(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(y, m - 1 - months, 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d, last));
  return target.toISOString().slice(0, 10);
}

/** Builds the SQL of one population for one scope. */
class Builder {
  private readonly start: string;
  private readonly endExcl: string;

  constructor(private readonly scope: ReportScope) {
    this.start = dayStart(scope.periodStart);
    this.endExcl = dayStart(addDays(scope.periodEnd, 1));
  }

  /** `at` (an expression with its own arguments) within the window; `anchorAt` is the anchor's instant for `since-anchor`. */
  window(at: Frag, w: Window, anchorAt?: string): Frag {
    const x = at.sql;
    if (w === 'period') return frag(`${x} >= ? AND ${x} < ?`, ...at.args, this.start, ...at.args, this.endExcl);
    if (w === 'to-end') return frag(`${x} < ?`, ...at.args, this.endExcl);
    if (w === 'before-start') return frag(`${x} < ?`, ...at.args, this.start);
    if (w === 'since-anchor') {
      if (!anchorAt) throw new Error('since-anchor needs an anchor');
      return frag(`${x} >= ${anchorAt} AND ${x} < ?`, ...at.args, ...at.args, this.endExcl);
    }
    return frag(`${x} < ?`, ...at.args, dayStart(addDays(monthsBefore(this.scope.periodEnd, w.monthsBeforeEnd), 1)));
  }

  /** Codes matched on an index row aliased `t`. */
  private codesOn(alias: string, codes: readonly Code[]): Frag {
    if (!codes.length) return frag('0');
    return join(
      codes.map((c) => (c.system === undefined ? frag(`${alias}.code = ?`, c.code) : frag(`(${alias}.code = ? AND ${alias}.system = ?)`, c.code, c.system))),
      ' OR ',
    );
  }

  /** The resource `r` (of `type`) carries one of the codes. */
  codeMatch(type: string, src: CodeSource, r = 'r'): Frag {
    if ('param' in src) {
      const m = this.codesOn('t', src.codes);
      return frag(`EXISTS (SELECT 1 FROM idx_token t INDEXED BY idx_token_rid WHERE t.rid = ${r}.rid AND t.param = ? AND (${m.sql}))`, `${type}.${src.param}`, ...m.args);
    }
    const m = join(src.codes.map((c) => frag("(json_extract(j.value, '$.code') = ? AND json_extract(j.value, '$.system') = ?)", c.code, c.system ?? null)), ' OR ');
    return frag(`EXISTS (SELECT 1 FROM versions v, json_each(v.content, ?) j WHERE v.seq = ${r}.seq AND (${m.sql || '0'}))`, src.json, ...m.args);
  }

  /** The event instant of `r`: the date parameter's lower bound, or a JSON date at day precision. */
  atOf(src: EventSource, r = 'r'): Frag {
    if ('param' in src.date) return frag(`(SELECT MIN(d.low) FROM idx_date d INDEXED BY idx_date_rid WHERE d.rid = ${r}.rid AND d.param = ?)`, `${src.type}.${src.date.param}`);
    const paths = src.date.json.map(() => 'json_extract(v.content, ?)');
    const expr = paths.length > 1 ? `COALESCE(${paths.join(', ')})` : paths[0]!;
    return frag(`(SELECT substr(${expr}, 1, 10) || 'T00:00:00.000Z' FROM versions v WHERE v.seq = ${r}.seq)`, ...src.date.json);
  }

  /** Conditions every counted record of a source meets: type, current, about a client, in scope, right code and status. */
  sourceFilter(src: EventSource, r = 'r'): Frag {
    const parts: Frag[] = [frag(`${r}.type = ? AND ${r}.deleted = 0 AND ${r}.patient IS NOT NULL`, src.type)];
    if (this.scope.custodian !== undefined) parts.push(frag(`${r}.custodian = ?`, this.scope.custodian));
    if (src.code) parts.push(this.codeMatch(src.type, src.code, r));
    for (const a of src.also ?? []) parts.push(this.codeMatch(src.type, a, r));
    const excluded = src.excludeStatus ?? EXCLUDED_STATUSES;
    if (excluded.length) {
      parts.push(
        frag(
          `NOT EXISTS (SELECT 1 FROM idx_token s INDEXED BY idx_token_rid WHERE s.rid = ${r}.rid AND s.param = ? AND s.code IN (${excluded.map(() => '?').join(', ')}))`,
          `${src.type}.status`,
          ...excluded,
        ),
      );
    }
    return join(parts, ' AND ');
  }

  /** Anchor rows of one source: driven by the code index when the code is indexed. */
  anchorRows(src: EventSource, w: Window): Frag {
    const at = this.atOf(src);
    const filter = this.sourceFilter(src);
    const inner = frag(
      `SELECT r.rid AS rid, r.patient AS pid, r.custodian AS org, r.type AS type, ${at.sql} AS at FROM resources r WHERE ${filter.sql}`,
      ...at.args,
      ...filter.args,
    );
    if (src.code && 'param' in src.code) {
      // Start from the (param, code) index: far fewer rows than every resource of the type.
      const m = this.codesOn('c', src.code.codes);
      inner.sql = inner.sql.replace(
        'FROM resources r WHERE',
        `FROM (SELECT DISTINCT c.rid FROM idx_token c WHERE c.param = ? AND (${m.sql})) k JOIN resources r ON r.rid = k.rid WHERE`,
      );
      inner.args = [...at.args, `${src.type}.${src.code.param}`, ...m.args, ...filter.args];
    }
    const win = this.window(frag('x.at'), w);
    return frag(`SELECT x.* FROM (${inner.sql}) x WHERE x.at IS NOT NULL AND ${win.sql}`, ...inner.args, ...win.args);
  }

  /** A condition on the unit aliased `b` (columns rid, pid, at). */
  condition(c: Condition): Frag {
    switch (c.kind) {
      case 'not': {
        const f = this.condition(c.of);
        return frag(`NOT (${f.sql})`, ...f.args);
      }
      case 'all':
        return c.of.length ? join(c.of.map((x) => this.paren(x)), ' AND ') : frag('1');
      case 'any':
        return c.of.length ? join(c.of.map((x) => this.paren(x)), ' OR ') : frag('0');
      case 'anchor-code': {
        const m = this.codesOn('t', c.code.codes);
        if (!('param' in c.code)) throw new Error('anchor-code needs an indexed parameter');
        return frag(`EXISTS (SELECT 1 FROM idx_token t INDEXED BY idx_token_rid WHERE t.rid = b.rid AND t.param = b.type || '.' || ? AND (${m.sql}))`, c.code.param, ...m.args);
      }
      case 'anchor-quantity': {
        const bounds: Frag[] = [];
        if (c.lt !== undefined) bounds.push(frag('q.value < ?', c.lt));
        if (c.ge !== undefined) bounds.push(frag('q.value >= ?', c.ge));
        const b = join(bounds, ' AND ');
        return frag(`EXISTS (SELECT 1 FROM idx_quantity q INDEXED BY idx_quantity_rid WHERE q.rid = b.rid AND q.param = b.type || '.' || ?${b.sql ? ` AND ${b.sql}` : ''})`, c.param, ...b.args);
      }
      case 'anchor-number':
        return frag('(SELECT CAST(json_extract(v.content, ?) AS REAL) FROM resources r JOIN versions v ON v.seq = r.seq WHERE r.rid = b.rid) >= ?', c.path, c.ge);
      case 'exists':
        return join(
          c.event.sources.map((src) => {
            const at = this.atOf(src);
            const win = this.window(at, c.window, 'b.at');
            const filter = this.sourceFilter(src);
            return frag(`EXISTS (SELECT 1 FROM resources r WHERE r.patient = b.pid AND ${filter.sql} AND ${win.sql})`, ...filter.args, ...win.args);
          }),
          ' OR ',
        );
    }
  }

  private paren(c: Condition): Frag {
    const f = this.condition(c);
    return frag(`(${f.sql})`, ...f.args);
  }

  /** Strata of the unit `b`: birth date midpoint, gender, key population, setting, provider type. */
  strata(spec: StrataSpec): Frag {
    const birth = frag(
      `(SELECT date((julianday(d.low) + julianday(d.high)) / 2) FROM resources p JOIN idx_date d INDEXED BY idx_date_rid ON d.rid = p.rid AND d.param = 'Patient.birthdate'
        WHERE p.type = 'Patient' AND p.id = b.pid AND p.deleted = 0 LIMIT 1) AS birth`,
    );
    const gender = frag(
      `(SELECT t.code FROM resources p JOIN idx_token t INDEXED BY idx_token_rid ON t.rid = p.rid AND t.param = 'Patient.gender'
        WHERE p.type = 'Patient' AND p.id = b.pid AND p.deleted = 0 LIMIT 1) AS gender`,
    );
    // A client recorded with several key population types counts under the first listed one.
    const kpRanks = join(
      spec.keyPopulation.types.map((t, i) => {
        const m = this.codesOn('kv', t.codes);
        return frag(`WHEN ${m.sql || '0'} THEN ${i}`, ...m.args);
      }),
      ' ',
    );
    const kp = join(
      spec.keyPopulation.event.sources.map((src) => {
        const at = this.atOf(src);
        const win = this.window(at, 'to-end');
        const filter = this.sourceFilter(src);
        return frag(
          `(SELECT MIN(CASE ${kpRanks.sql} END) FROM resources r JOIN idx_token kv INDEXED BY idx_token_rid ON kv.rid = r.rid AND kv.param = ?
            WHERE r.patient = b.pid AND ${filter.sql} AND ${win.sql})`,
          ...kpRanks.args,
          `${src.type}.${spec.keyPopulation.valueParam}`,
          ...filter.args,
          ...win.args,
        );
      }),
      ', ',
    );
    const kpExpr = spec.keyPopulation.event.sources.length > 1 ? frag(`MIN(${kp.sql})`, ...kp.args) : kp;
    const setting = this.classify(
      `SELECT t.code AS code, t.system AS system FROM idx_token t INDEXED BY idx_token_rid WHERE t.param = 'Encounter.class' AND t.rid = (
         CASE WHEN b.type = 'Encounter' THEN b.rid ELSE (SELECT e.rid FROM idx_ref x INDEXED BY idx_ref_rid JOIN resources e ON e.type = 'Encounter' AND e.id = x.target_id
           WHERE x.rid = b.rid AND x.param = b.type || '.encounter' LIMIT 1) END)`,
      spec.setting,
    );
    const provider = this.classify(
      `SELECT t.code AS code, t.system AS system FROM resources o JOIN idx_token t INDEXED BY idx_token_rid ON t.rid = o.rid AND t.param = 'Organization.type'
        WHERE o.type = 'Organization' AND o.id = b.org AND o.deleted = 0`,
      spec.providerType,
    );
    return join([birth, gender, frag(`(${kpExpr.sql}) AS kp`, ...kpExpr.args), frag(`${setting.sql} AS setting`, ...setting.args), frag(`${provider.sql} AS ptype`, ...provider.args)], ', ');
  }

  /** The first value whose codes one of the rows carries, else 'unknown'. */
  private classify(rows: string, values: readonly { value: string; codes: readonly Code[] }[]): Frag {
    const cases = join(
      values.map((v, i) => {
        const m = this.codesOn('z', v.codes);
        return frag(`WHEN ${m.sql || '0'} THEN ${i}`, ...m.args);
      }),
      ' ',
    );
    const labels = values.map((v, i) => `WHEN ${i} THEN '${v.value.replace(/'/g, "''")}'`).join(' ');
    return frag(`(SELECT CASE MIN(CASE ${cases.sql} END) ${labels} ELSE 'unknown' END FROM (${rows}) z)`, ...cases.args);
  }
}

/** MER age band of an age in whole years (MER 2.6 fine bands). */
const AGE_BAND_SQL = `CASE WHEN age IS NULL THEN 'unknown' WHEN age < 1 THEN '<1' WHEN age < 5 THEN '1-4' WHEN age < 10 THEN '5-9'
  WHEN age < 15 THEN '10-14' WHEN age < 20 THEN '15-19' WHEN age < 25 THEN '20-24' WHEN age < 30 THEN '25-29' WHEN age < 35 THEN '30-34'
  WHEN age < 40 THEN '35-39' WHEN age < 45 THEN '40-44' WHEN age < 50 THEN '45-49' WHEN age < 55 THEN '50-54' WHEN age < 60 THEN '55-59'
  WHEN age < 65 THEN '60-64' ELSE '65+' END`;

/**
 * The full statement of a population, returning one row per non-empty cell. Per-row lookups name
 * their (rid, param) index: the planner would otherwise prefer the covering (param, low, …) index
 * and scan a whole parameter per row. `strat` is materialised so each stratum is derived once.
 */
export function populationSql(q: PopulationQuery, scope: ReportScope, spec: StrataSpec): Frag {
  const b = new Builder(scope);
  const anchors = join(q.anchor.sources.map((s) => b.anchorRows(s, q.anchorWindow)), ' UNION ALL ');
  const order = q.pick === 'last' ? 'at DESC, rid DESC' : 'at ASC, rid ASC';
  const picked =
    q.unit === 'client'
      ? `SELECT rid, pid, org, type, at FROM (SELECT ev.*, ROW_NUMBER() OVER (PARTITION BY pid ORDER BY ${order}) AS n FROM ev) WHERE n = 1`
      : 'SELECT rid, pid, org, type, at FROM ev';
  const req = q.require?.length ? b.condition({ kind: 'all', of: q.require }) : frag('1');
  const num = q.numerator?.length ? b.condition({ kind: 'all', of: q.numerator }) : frag('1');
  const strata = b.strata(spec);
  const end = scope.periodEnd;
  const sql = `WITH ev AS (${anchors.sql}),
    picked AS (${picked}),
    base AS (SELECT b.* FROM picked b WHERE ${req.sql}),
    strat AS MATERIALIZED (SELECT b.org AS org, CASE WHEN ${num.sql} THEN 1 ELSE 0 END AS num, ${strata.sql} FROM base b),
    aged AS (SELECT s.*, CASE WHEN birth IS NULL THEN NULL ELSE
      CAST(substr(?, 1, 4) AS INTEGER) - CAST(substr(birth, 1, 4) AS INTEGER) - (substr(?, 6, 5) < substr(birth, 6, 5)) END AS age FROM strat s)
    SELECT ${AGE_BAND_SQL} AS ageBandMer, COALESCE(gender, 'unknown') AS gender, kp, COALESCE(org, 'unknown') AS organization,
      setting, ptype AS providerType, COUNT(*) AS population, SUM(num) AS numerator
    FROM aged GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`;
  return frag(sql, ...anchors.args, ...req.args, ...num.args, ...strata.args, end, end);
}

/** The indicator queries of one connection (the committed read connection). */
export function sqliteIndicatorQueries(db: Database.Database, kpValues?: readonly string[]): IndicatorQueries {
  return {
    async countCells(q, scope, spec) {
      const { sql, args } = populationSql(q, scope, spec);
      const labels = kpValues ?? spec.keyPopulation.types.map((t) => t.value);
      const rows = db.prepare(sql).all(...args) as (Omit<Cell, 'keyPopulation'> & { kp: number | null })[];
      return rows.map(({ kp, ...r }) => ({ ...r, keyPopulation: kp === null ? 'not-recorded' : (labels[kp] ?? 'not-recorded') }));
    },
    async countResources() {
      return (db.prepare('SELECT COUNT(*) AS n FROM resources WHERE deleted = 0').get() as { n: number }).n;
    },
  };
}
