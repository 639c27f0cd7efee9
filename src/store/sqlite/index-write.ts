/** Writing a resource's index rows to the embedded store's index tables. */
import type Database from 'better-sqlite3';
import type { IndexRows } from '../../search/index-rows';
import { INDEX_TABLE } from './schema';

type Db = Database.Database;

/** Prepared statements per connection, built once. */
export class IndexWriter {
  private readonly del: Database.Statement[];
  private readonly ins: Record<keyof IndexRows, Database.Statement>;
  private readonly span: Database.Statement;

  constructor(db: Db) {
    this.del = Object.values(INDEX_TABLE).map((t) => db.prepare(`DELETE FROM ${t} WHERE rid = ?`));
    this.ins = {
      token: db.prepare('INSERT INTO idx_token (rid, param, system, code, text, type_system, type_code) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      string: db.prepare('INSERT INTO idx_string (rid, param, value, raw) VALUES (?, ?, ?, ?)'),
      reference: db.prepare('INSERT INTO idx_ref (rid, param, target_type, target_id, version, url, id_system, id_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      date: db.prepare('INSERT INTO idx_date (rid, param, low, high) VALUES (?, ?, ?, ?)'),
      number: db.prepare('INSERT INTO idx_number (rid, param, value) VALUES (?, ?, ?)'),
      quantity: db.prepare('INSERT INTO idx_quantity (rid, param, value, system, code, unit, canonical_value, canonical_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      uri: db.prepare('INSERT INTO idx_uri (rid, param, value) VALUES (?, ?, ?)'),
      composite: db.prepare(
        `INSERT INTO idx_composite (rid, param, system, code, second, second_system, second_code, second_value, second_canonical_value,
          second_canonical_code, second_low, second_high, second_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
    };
    // Widen only: a search may rely on every stored range of the parameter being within these.
    this.span = db.prepare(
      `INSERT INTO param_span (param, max_ms, min_ms, max_rows) VALUES (?, ?, ?, ?)
        ON CONFLICT (param) DO UPDATE SET max_ms = MAX(max_ms, excluded.max_ms), min_ms = MIN(min_ms, excluded.min_ms), max_rows = MAX(max_rows, excluded.max_rows)
        WHERE excluded.max_ms > param_span.max_ms OR excluded.min_ms < param_span.min_ms OR excluded.max_rows > param_span.max_rows`,
    );
  }

  /** Records, per date parameter, the longest/shortest range and the row count of this resource. */
  private widenSpans(type: string, rows: IndexRows['date']): void {
    const per = new Map<string, { max: number; min: number; n: number }>();
    for (const r of rows) {
      // An unparseable bound (extract.ts never writes one) must only ever disable the window.
      const diff = Date.parse(r.high) - Date.parse(r.low);
      const [max, min] = Number.isFinite(diff) ? [diff, diff] : [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
      const s = per.get(r.param);
      if (s) (s.max = Math.max(s.max, max), s.min = Math.min(s.min, min), s.n++);
      else per.set(r.param, { max, min, n: 1 });
    }
    for (const [param, s] of per) this.span.run(`${type}.${param}`, s.max, s.min, s.n);
  }

  /** Removes every index row of a resource (on delete, and before re-indexing). */
  clear(rid: number): void {
    for (const s of this.del) s.run(rid);
  }

  /** Replaces the resource's rows; `type` qualifies the parameter codes. A `fresh` rid has none to clear. */
  write(rid: number, type: string, rows: IndexRows, fresh = false): void {
    if (!fresh) this.clear(rid);
    const p = (code: string) => `${type}.${code}`;
    for (const r of rows.token) this.ins.token.run(rid, p(r.param), r.system, r.code, r.text, r.typeSystem ?? null, r.typeCode ?? null);
    for (const r of rows.string) this.ins.string.run(rid, p(r.param), r.value, r.raw);
    for (const r of rows.reference) this.ins.reference.run(rid, p(r.param), r.targetType, r.targetId, r.version, r.url, r.idSystem, r.idValue);
    for (const r of rows.date) this.ins.date.run(rid, p(r.param), r.low, r.high);
    if (rows.date.length) this.widenSpans(type, rows.date);
    for (const r of rows.number) this.ins.number.run(rid, p(r.param), r.value);
    for (const r of rows.quantity) this.ins.quantity.run(rid, p(r.param), r.value, r.system, r.code, r.unit, r.canonicalValue, r.canonicalCode);
    for (const r of rows.uri) this.ins.uri.run(rid, p(r.param), r.value);
    for (const r of rows.composite) {
      this.ins.composite.run(
        rid, p(r.param), r.system, r.code, r.second, r.secondSystem, r.secondCode, r.secondValue,
        r.secondCanonicalValue, r.secondCanonicalCode, r.secondLow, r.secondHigh, r.secondText,
      );
    }
  }
}
