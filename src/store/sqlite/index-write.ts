/** Writing a resource's index rows to the embedded store's index tables. */
import type Database from 'better-sqlite3';
import type { IndexRows } from '../../search/index-rows';
import { INDEX_TABLE } from './schema';

type Db = Database.Database;

/** Prepared statements per connection, built once. */
export class IndexWriter {
  private readonly del: Database.Statement[];
  private readonly ins: Record<keyof IndexRows, Database.Statement>;

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
