/** Reads on one embedded-store connection: the committed view, or inside a unit of work. */
import type Database from 'better-sqlite3';
import type { AuditLink, HistoryPage, HistoryQuery, SearchResult, StoreReader, StoredVersion } from '../port';
import type { Predicate, SearchPlan } from '../../search/plan';
import { decodeCursor, encodeCursor } from '../cursor';
import { type VersionRow, rowToVersion } from './rows';
import { SqliteSearch } from './search-sql';
import { Statements } from './statements';
import { Aliases, type Sql, visibilitySql } from './predicate-sql';
import { AUDIT, auditPredicateSql, searchAuditLog } from './audit-log';

/**
 * History's visibility test on a version `v`: decided on the resource's current row (custody never
 * changes), or for an AuditEvent on its one version row; only the test the type needs is built.
 */
function historyVisibility(type: string | undefined, visibility: Predicate[]): Sql {
  const onResource = (): Sql => {
    const vis = visibilitySql('r', visibility, new Aliases());
    return { sql: `EXISTS (SELECT 1 FROM resources r WHERE r.type = v.type AND r.id = v.id${vis.sql})`, args: vis.args };
  };
  const onEvent = (): Sql => auditPredicateSql('v', { kind: 'and', all: visibility });
  if (type === AUDIT) return onEvent();
  if (type) return onResource();
  const [event, resource] = [onEvent(), onResource()];
  return { sql: `(CASE WHEN v.type = '${AUDIT}' THEN ${event.sql} ELSE ${resource.sql} END)`, args: [...event.args, ...resource.args] };
}

export class SqliteReader implements StoreReader {
  protected readonly sql: Statements;
  private readonly searcher: SqliteSearch;
  /** An AuditEvent search in one read transaction, as SqliteSearch runs the others: its key counts, total and page see one snapshot. */
  private readonly auditSearch: (plan: SearchPlan) => SearchResult;

  constructor(protected readonly db: Database.Database) {
    this.sql = new Statements(db);
    this.searcher = new SqliteSearch(this.sql);
    this.auditSearch = db.transaction((plan: SearchPlan) => searchAuditLog(this.sql, plan));
  }

  async read(type: string, id: string): Promise<StoredVersion | undefined> {
    // AuditEvents have no resource row (audit-log.ts); their one version is current.
    const sql =
      type === AUDIT
        ? 'SELECT v.* FROM versions v WHERE v.type = ? AND v.id = ? AND v.version = 1'
        : 'SELECT v.* FROM resources r JOIN versions v ON v.seq = r.seq WHERE r.type = ? AND r.id = ?';
    const row = this.sql.get(sql).get(type, id) as VersionRow | undefined;
    return row ? rowToVersion(row) : undefined;
  }

  async vread(type: string, id: string, versionId: string): Promise<StoredVersion | undefined> {
    if (!/^[1-9][0-9]{0,15}$/.test(versionId)) return undefined;
    const row = this.sql.get('SELECT * FROM versions WHERE type = ? AND id = ? AND version = ?').get(type, id, Number(versionId)) as
      | VersionRow
      | undefined;
    return row ? rowToVersion(row) : undefined;
  }

  async history(q: HistoryQuery): Promise<HistoryPage> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.type) (where.push('v.type = ?'), args.push(q.type));
    if (q.id) (where.push('v.id = ?'), args.push(q.id));
    if (q.since) (where.push('v.last_updated >= ?'), args.push(q.since));
    if (q.at) {
      // A version is current from its own write until the next one: it overlaps [low, high) when it
      // was written before `high` and no later version of the resource was written by `low`.
      where.push('v.last_updated < ? AND NOT EXISTS (SELECT 1 FROM versions n WHERE n.type = v.type AND n.id = v.id AND n.seq > v.seq AND n.last_updated <= ?)');
      args.push(q.at.high, q.at.low);
    }
    if (q.visibility?.length) {
      const test = historyVisibility(q.type, q.visibility);
      where.push(test.sql);
      args.push(...test.args);
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.sql.get(`SELECT COUNT(*) AS n FROM versions v ${filter}`).get(...args) as { n: number }).n;
    const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
    const pageWhere = cursor ? `${filter ? `${filter} AND` : 'WHERE'} v.seq < ?` : filter;
    const rows = this.sql
      .get(`SELECT v.* FROM versions v ${pageWhere} ORDER BY v.seq DESC LIMIT ?`)
      .all(...args, ...(cursor ? [cursor.seq] : []), q.count + 1) as VersionRow[];
    const more = rows.length > q.count;
    const page = rows.slice(0, q.count);
    const last = page[page.length - 1];
    return { entries: page.map(rowToVersion), total, nextCursor: more && last ? encodeCursor({ seq: last.seq }) : undefined };
  }

  async search(plan: SearchPlan): Promise<SearchResult> {
    if (plan.types.length === 1 && plan.types[0] === AUDIT) return this.auditSearch(plan);
    return this.searcher.run(plan);
  }

  /** Audit chain links after `afterSeq`, with the stored event JSON. */
  auditChain(afterSeq: number, limit: number): AuditLink[] {
    const rows = this.sql
      .get(
        `SELECT c.seq, c.event_id, c.prev_hash, c.hash, COALESCE(v.content, j.content) AS content FROM audit_chain c
         LEFT JOIN versions v ON v.type = 'AuditEvent' AND v.id = c.event_id AND v.version = 1
         LEFT JOIN audit_journal j ON j.seq = c.seq AND j.event_id = c.event_id
         WHERE c.seq > ? ORDER BY c.seq LIMIT ?`,
      )
      .all(afterSeq, limit) as { seq: number; event_id: string; prev_hash: string; hash: string; content: string | null }[];
    return rows.map((r) => ({ seq: r.seq, eventId: r.event_id, prevHash: r.prev_hash, hash: r.hash, ...(r.content !== null ? { content: r.content } : {}) }));
  }

  /** True when audit events wait in the journal to join the audit log. */
  auditJournalPending(): boolean {
    return this.sql.get('SELECT 1 FROM audit_journal LIMIT 1').get() !== undefined;
  }

  /** The head recorded at the last append. */
  auditHead(): { seq: number; hash: string } | undefined {
    const row = this.sql.get("SELECT value FROM meta WHERE key = 'audit_head'").get() as { value: string } | undefined;
    if (!row) return undefined;
    const [seq, hash] = row.value.split(':');
    return { seq: Number(seq), hash: hash! };
  }

  async enrolments(patientId: string): Promise<string[]> {
    return (this.sql.get('SELECT org FROM enrolments WHERE patient_id = ? ORDER BY org').all(patientId) as { org: string }[]).map((r) => r.org);
  }

  async stamp(key: string): Promise<number> {
    return (this.sql.get('SELECT n FROM stamps WHERE key = ?').get(key) as { n: number } | undefined)?.n ?? 0;
  }
}
