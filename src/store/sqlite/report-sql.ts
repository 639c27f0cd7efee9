/**
 * Indicator queries on the embedded store (src/reporting/query.ts), evaluated set-wise in one pass
 * per request, inside one read transaction (so every indicator of a report sees the same data).
 * Small facts are joins on temporary tables keyed by rid or client id, each filled by one range
 * scan of a covering (param, …, rid) index; the records that are events are visited in rid order
 * (one forward sweep of the resources table and of the (rid, param) date index per resource type
 * where the sources allow it; report-events.ts):
 *
 * 1. per-resource facts: the class rank of each Encounter and the Encounter each record refers to
 *    (setting), the key population rank of each record, birth date and gender;
 * 2. `rpt_ev`: every event of every kind the populations read (anchors, conditions, the key
 *    population record), from the code index, dated by the lowest bound of its date before the
 *    period end; a WITHOUT ROWID table keyed (kind, pid, at, rid) that holds every column a pick
 *    reads, so a condition is one probe and a pick reads the key in order with no row lookups;
 * 3. `rpt_client`, `rpt_kp`, `rpt_org`: age band, gender and key population of each client, and
 *    the provider type of each organisation;
 * 4. `rpt_pick_<n>`: each distinct anchor choice (kind, window, first/last/every event) with all
 *    its strata, shared by the indicators that use it (five count every client in contact);
 * 5. per population, one GROUP BY over its pick table with its conditions: the cells.
 *
 * Joins name their order (CROSS JOIN) where the planner, not knowing the temporary tables' sizes,
 * could otherwise scan one per row. Temporary tables live on the read connection and are dropped
 * before the call returns; calls are synchronous, so nothing else runs on the connection meanwhile.
 * docs/reporting.md ("Performance") has the measurements.
 */
import {
  type Condition,
  type EventKind,
  type PopulationQuery,
  type ReportScope,
  type StrataSpec,
  type Window,
} from '../../reporting/query';
import { addDays, dayStart, monthsBefore } from '../../reporting/period';
import { type Frag, type Step, frag, join, lit, not, rankedRids, ridsWith } from './report-frag';
import { type KindUse, eventSteps } from './report-events';


/** The label of a rank (an expression), else 'unknown'. */
function label(rank: string, values: readonly { value: string }[]): string {
  return `CASE ${rank} ${values.map((v, i) => `WHEN ${i} THEN ${lit(v.value)}`).join(' ')} ELSE 'unknown' END`;
}

/** MER age band of an age in whole years (MER 2.6 fine bands). */
const AGE_BAND_SQL = `CASE WHEN age IS NULL THEN 'unknown' WHEN age < 1 THEN '<1' WHEN age < 5 THEN '1-4' WHEN age < 10 THEN '5-9'
  WHEN age < 15 THEN '10-14' WHEN age < 20 THEN '15-19' WHEN age < 25 THEN '20-24' WHEN age < 30 THEN '25-29' WHEN age < 35 THEN '30-34'
  WHEN age < 40 THEN '35-39' WHEN age < 45 THEN '40-44' WHEN age < 50 THEN '45-49' WHEN age < 55 THEN '50-54' WHEN age < 60 THEN '55-59'
  WHEN age < 65 THEN '60-64' ELSE '65+' END`;

/** The anchor choice of a population: one pick table serves every population with the same key. */
const pickKey = (q: PopulationQuery, kind: number): string =>
  JSON.stringify([kind, q.anchorWindow, q.unit === 'event' ? 'every' : (q.pick ?? 'first')]);

/** The statements of one evaluation (one scope, one strata spec, any number of populations). */
export class Evaluation {
  private readonly start: string;
  private readonly endExcl: string;
  readonly kinds = new Map<EventKind, KindUse>();
  readonly picks = new Map<string, { n: number; query: PopulationQuery }>();
  private readonly events: ReturnType<typeof eventSteps>;

  constructor(
    private readonly scope: ReportScope,
    private readonly spec: StrataSpec,
    queries: readonly PopulationQuery[],
  ) {
    this.start = dayStart(scope.periodStart);
    this.endExcl = dayStart(addDays(scope.periodEnd, 1));
    this.use(spec.keyPopulation.event, 'to-end');
    for (const q of queries) {
      this.use(q.anchor, q.anchorWindow);
      for (const c of [...(q.require ?? []), ...(q.numerator ?? [])]) this.useIn(c);
      const key = pickKey(q, this.kinds.get(q.anchor)!.n);
      if (!this.picks.has(key)) this.picks.set(key, { n: this.picks.size, query: q });
    }
    this.events = eventSteps({ scope, start: this.start, endExcl: this.endExcl, keyPopulation: spec.keyPopulation.event }, this.kinds);
  }

  /** Only windows within the period let a kind drop its earlier events. */
  private use(kind: EventKind, w: Window): void {
    const u = this.kinds.get(kind) ?? { n: this.kinds.size, history: false };
    u.history ||= w !== 'period' && !(typeof w === 'object' && 'courseDays' in w);
    this.kinds.set(kind, u);
  }

  private useIn(c: Condition): void {
    if (c.kind === 'exists') this.use(c.event, c.window);
    else if (c.kind === 'supply-current') this.use(c.event, 'to-end');
    else if (c.kind === 'not') this.useIn(c.of);
    else if (c.kind === 'all' || c.kind === 'any') for (const x of c.of) this.useIn(x);
  }

  /** The temporary tables this evaluation creates. */
  tables(): string[] {
    const picks = [...this.picks.values()].map(({ n }) => `rpt_pick_${n}`);
    const rids = Array.from({ length: this.events.ridTableCount }, (_, n) => `rpt_k_${n}`);
    return ['rpt_ev', 'rpt_client', 'rpt_kp', 'rpt_org', ...this.ridTables(), ...rids, ...picks];
  }

  /** The tables of per-resource facts: rid → a value. */
  private ridTables(): string[] {
    return ['rpt_kprank', 'rpt_class', 'rpt_encref', 'rpt_birth', 'rpt_gender', 'rpt_orgtype'];
  }

  /** Every statement, in order: facts, events, strata, picks (the cells come after, one statement per population). */
  steps(): Step[] {
    const steps: Step[] = [
      {
        name: 'create',
        // Keyed as it is read (a condition probes (kind, pid, at), a pick reads a kind in (pid, at, rid)
        // order) and holding every column a pick needs: one B-tree, no row lookups.
        sql: frag(`CREATE TEMP TABLE rpt_ev (kind INTEGER NOT NULL, pid TEXT NOT NULL, at TEXT NOT NULL, rid INTEGER NOT NULL, org TEXT, type TEXT NOT NULL, val INTEGER,
            PRIMARY KEY (kind, pid, at, rid)) WITHOUT ROWID;
          CREATE TEMP TABLE rpt_client (pid TEXT PRIMARY KEY, band TEXT NOT NULL, gender TEXT NOT NULL) WITHOUT ROWID;
          CREATE TEMP TABLE rpt_kp (pid TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
          CREATE TEMP TABLE rpt_org (org TEXT PRIMARY KEY, ptype TEXT NOT NULL) WITHOUT ROWID;
          ${this.ridTables().map((t) => `CREATE TEMP TABLE ${t} (rid INTEGER PRIMARY KEY, v);`).join('\n')}`),
      },
    ];
    const kp = this.spec.keyPopulation;
    for (const src of kp.event.sources) {
      const u = rankedRids(`${src.type}.${kp.valueParam}`, kp.types);
      steps.push({ name: `key population values ${src.type}`, sql: frag(`INSERT OR IGNORE INTO temp.rpt_kprank SELECT rid, MIN(rk) FROM (${u.sql}) GROUP BY rid`, ...u.args) });
    }
    steps.push(...this.events.steps);
    steps.push(...this.settingSteps(), ...this.clientSteps(), ...this.orgSteps());
    for (const { n, query } of this.picks.values()) steps.push({ name: `pick ${n} ${query.anchor.id}`, sql: this.pickCreate(n, query) });
    return steps;
  }

  /** `x` (an instant expression) within the window; `anchorAt` is the anchor's instant for `since-anchor`. */
  window(x: string, w: Window, anchorAt?: string): Frag {
    if (w === 'period') return frag(`${x} >= ? AND ${x} < ?`, this.start, this.endExcl);
    if (w === 'to-end') return frag(`${x} < ?`, this.endExcl);
    if (w === 'before-start') return frag(`${x} < ?`, this.start);
    if (w === 'since-anchor') {
      if (!anchorAt) throw new Error('since-anchor needs an anchor');
      return frag(`${x} >= ${anchorAt} AND ${x} < ?`, this.endExcl);
    }
    // A course starting on day D (its first day) ends on D + n − 1: D ≤ end − (n − 1), i.e. D < end − (n − 2) days.
    if ('courseDays' in w) return frag(`${x} >= ? AND ${x} < ?`, this.start, dayStart(addDays(this.scope.periodEnd, 2 - w.courseDays)));
    return frag(`${x} < ?`, dayStart(addDays(monthsBefore(this.scope.periodEnd, w.monthsBeforeEnd), 1)));
  }

  /** The class rank of every Encounter, and the Encounter each record of an anchor's type refers to. */
  private settingSteps(): Step[] {
    const u = rankedRids('Encounter.class', this.spec.setting);
    const steps: Step[] = [{ name: 'encounter classes', sql: frag(`INSERT INTO temp.rpt_class SELECT rid, MIN(rk) FROM (${u.sql}) GROUP BY rid`, ...u.args) }];
    const types = new Set([...this.picks.values()].flatMap(({ query }) => query.anchor.sources.map((s) => s.type)).filter((t) => t !== 'Encounter'));
    for (const type of types) {
      // Read in target id order, so the Encounters are looked up in their (type, id) index order.
      steps.push({
        name: `encounter references ${type}`,
        sql: frag(`INSERT OR IGNORE INTO temp.rpt_encref SELECT x.rid, MIN(e.rid) FROM idx_ref x CROSS JOIN resources e ON e.type = 'Encounter' AND e.id = x.target_id WHERE x.param = ? GROUP BY x.rid`, `${type}.encounter`),
      });
    }
    return steps;
  }

  /**
   * Creates the pick table of one anchor choice: the anchor events (one per client for client
   * units) with every stratum of the cell they fall in, so a population only scans it.
   */
  private pickCreate(n: number, q: PopulationQuery): Frag {
    const kind = this.kinds.get(q.anchor)!.n;
    const win = this.window('e.at', q.anchorWindow);
    const order = q.pick === 'last' ? 'at DESC, rid DESC' : 'at ASC, rid ASC';
    const anchors =
      q.unit === 'client'
        ? `SELECT rid, pid, org, type, at FROM (SELECT e.rid, e.pid, e.org, e.type, e.at, ROW_NUMBER() OVER (PARTITION BY e.pid ORDER BY ${order}) AS n
             FROM temp.rpt_ev e WHERE e.kind = ? AND ${win.sql}) WHERE n = 1`
        : `SELECT e.rid, e.pid, e.org, e.type, e.at FROM temp.rpt_ev e WHERE e.kind = ? AND ${win.sql}`;
    // Setting: the class of the anchor Encounter, or of the Encounter the anchor refers to.
    return frag(
      `CREATE TEMP TABLE rpt_pick_${n} AS SELECT a.rid, a.pid, a.type, a.at, COALESCE(cl.band, 'unknown') AS band, COALESCE(cl.gender, 'unknown') AS gender,
         k.v AS kp, COALESCE(a.org, 'unknown') AS org, ${label('c.v', this.spec.setting)} AS setting, COALESCE(o.ptype, 'unknown') AS ptype
       FROM (${anchors}) a LEFT JOIN temp.rpt_encref er ON er.rid = a.rid LEFT JOIN temp.rpt_class c ON c.rid = (CASE WHEN a.type = 'Encounter' THEN a.rid ELSE er.v END)
         LEFT JOIN temp.rpt_client cl ON cl.pid = a.pid LEFT JOIN temp.rpt_kp k ON k.pid = a.pid LEFT JOIN temp.rpt_org o ON o.org = a.org`,
      kind,
      ...win.args,
    );
  }

  /**
   * `rpt_client`: age band at the period end and gender of every client with a Patient record;
   * `rpt_kp`: the key population rank of every client with a key population record (a client may
   * have either without the other, so they are kept apart). Patients come from the (type, id)
   * index alone, never their rows: a deleted Patient has no index rows, so its row here (unknown
   * band and gender) counts as no row does (the picks default to unknown), and reading 100,000
   * scattered rows cost twice the time of the whole step.
   */
  private clientSteps(): Step[] {
    const end = this.scope.periodEnd;
    return [
      // A year- or month-only birth date is taken at the middle of its range.
      { name: 'birth dates', sql: frag("INSERT INTO temp.rpt_birth SELECT rid, MIN(date((julianday(low) + julianday(high)) / 2)) FROM idx_date WHERE param = 'Patient.birthdate' GROUP BY rid") },
      { name: 'genders', sql: frag("INSERT INTO temp.rpt_gender SELECT rid, MIN(code) FROM idx_token WHERE param = 'Patient.gender' GROUP BY rid") },
      {
        name: 'clients',
        sql: frag(
          `INSERT INTO temp.rpt_client (pid, band, gender) SELECT pid, ${AGE_BAND_SQL}, COALESCE(gender, 'unknown') FROM (
             SELECT p.id AS pid, g.v AS gender,
               CASE WHEN b.v IS NULL THEN NULL ELSE CAST(substr(?, 1, 4) AS INTEGER) - CAST(substr(b.v, 1, 4) AS INTEGER) - (substr(?, 6, 5) < substr(b.v, 6, 5)) END AS age
             FROM resources p LEFT JOIN temp.rpt_birth b ON b.rid = p.rid LEFT JOIN temp.rpt_gender g ON g.rid = p.rid
             WHERE p.type = 'Patient')`,
          end,
          end,
        ),
      },
      {
        name: 'key populations',
        sql: frag('INSERT INTO temp.rpt_kp (pid, v) SELECT pid, MIN(val) FROM temp.rpt_ev WHERE kind = ? GROUP BY pid', this.kinds.get(this.spec.keyPopulation.event)!.n),
      },
    ];
  }

  /** The provider type of every Organization (an organisation without one, or without a record, is 'unknown'). */
  private orgSteps(): Step[] {
    const types = this.spec.providerType;
    const u = rankedRids('Organization.type', types);
    return [
      { name: 'organisation types', sql: frag(`INSERT INTO temp.rpt_orgtype SELECT rid, MIN(rk) FROM (${u.sql}) GROUP BY rid`, ...u.args) },
      {
        name: 'organisations',
        sql: frag(`INSERT INTO temp.rpt_org (org, ptype) SELECT o.id, ${label('t.v', types)} FROM resources o LEFT JOIN temp.rpt_orgtype t ON t.rid = o.rid
          WHERE o.type = 'Organization' AND o.deleted = 0`),
      },
    ];
  }

  /** A condition on the unit aliased `b` (columns rid, pid, type, at), whose anchor is a record of one of `types`. */
  condition(c: Condition, types: readonly string[]): Frag {
    // Per anchor type, the rids meeting a condition on the anchor itself, as a set built once.
    const perType = (set: (type: string) => Frag): Frag =>
      join(types.map((type) => { const f = set(type); return frag(`(b.type = ? AND b.rid IN (${f.sql}))`, type, ...f.args); }), ' OR ');
    switch (c.kind) {
      case 'not':
        return not(this.condition(c.of, types));
      case 'all':
      case 'any': {
        if (!c.of.length) return frag(c.kind === 'all' ? '1' : '0');
        return join(c.of.map((x) => { const f = this.condition(x, types); return frag(`(${f.sql})`, ...f.args); }), c.kind === 'all' ? ' AND ' : ' OR ');
      }
      case 'anchor-code': {
        const code = c.code;
        if (!('param' in code)) throw new Error('anchor-code needs an indexed parameter');
        return perType((type) => ridsWith(`${type}.${code.param}`, code.codes));
      }
      case 'anchor-quantity': {
        const bounds: Frag[] = [];
        if (c.lt !== undefined) bounds.push(frag('q.value < ?', c.lt));
        if (c.ge !== undefined) bounds.push(frag('q.value >= ?', c.ge));
        const b = join(bounds, ' AND ');
        return perType((type) => frag(`SELECT q.rid FROM idx_quantity q WHERE q.param = ?${b.sql ? ` AND ${b.sql}` : ''}`, `${type}.${c.param}`, ...b.args));
      }
      case 'anchor-number':
        return frag('(SELECT CAST(json_extract(v.content, ?) AS REAL) FROM resources r JOIN versions v ON v.seq = r.seq WHERE r.rid = b.rid) >= ?', c.path, c.ge);
      case 'supply-current': {
        // The latest record (one backward probe of the kind's (pid, at) range in rpt_ev, which holds
        // only events before the period end), then its
        // indexed supply end: current while supply end + lateDays >= period end, i.e. the end day's
        // exclusive bound (`high`) is after period end − lateDays. No record or no supply end: met.
        // By rid: with the parameter only known per row, SQLite otherwise scanned every supply end of
        // the parameter (idx_date_high) for each client, 127 s at 100,000 clients.
        const due = dayStart(addDays(this.scope.periodEnd, -c.lateDays));
        return frag(
          `COALESCE((SELECT (SELECT MAX(d.high) FROM idx_date d INDEXED BY idx_date_rid WHERE d.rid = l.rid AND d.param = l.type || '.' || ?) > ?
             FROM (SELECT e.rid, e.type FROM temp.rpt_ev e WHERE e.kind = ? AND e.pid = b.pid AND e.type IN (${c.types.map(() => '?').join(', ')})
               ORDER BY e.at DESC, e.rid DESC LIMIT 1) l), 1)`,
          c.param,
          due,
          this.kinds.get(c.event)!.n,
          ...c.types,
        );
      }
      case 'exists': {
        const win = this.window('e.at', c.window, 'b.at');
        return frag(`EXISTS (SELECT 1 FROM temp.rpt_ev e WHERE e.kind = ? AND e.pid = b.pid AND ${win.sql})`, this.kinds.get(c.event)!.n, ...win.args);
      }
    }
  }

  /** The cells of one population: its pick table, narrowed and scored by its conditions, grouped by the strata. */
  cells(q: PopulationQuery): Frag {
    const n = this.picks.get(pickKey(q, this.kinds.get(q.anchor)!.n))!.n;
    const types = [...new Set(q.anchor.sources.map((s) => s.type))];
    const req = q.require?.length ? this.condition({ kind: 'all', of: q.require }, types) : frag('1');
    const num = q.numerator?.length ? this.condition({ kind: 'all', of: q.numerator }, types) : frag('1');
    return frag(
      `SELECT band AS ageBandMer, gender, kp, org AS organization, setting, ptype AS providerType, COUNT(*) AS population, SUM(num) AS numerator
       FROM (SELECT b.band, b.gender, b.kp, b.org, b.setting, b.ptype, CASE WHEN ${num.sql} THEN 1 ELSE 0 END AS num FROM temp.rpt_pick_${n} b WHERE ${req.sql})
       GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`,
      ...num.args,
      ...req.args,
    );
  }
}
