/** Collecting a resource's index rows while they are extracted, without exact repeats. */
import { emptyRows, type IndexRows } from './index-rows';

/**
 * Rows per kind of index, skipping exact repeats (the same code under `code` and `combo-code` is
 * two rows, not four). Only rows of one kind and parameter can repeat each other, and most
 * parameters give a single row, so a row's full key is built only when its group already has one.
 */
export class RowSink {
  readonly rows = emptyRows();
  /** Per `kind \0 param`: its first row until a second arrives, then the keys of all its rows. */
  private readonly groups = new Map<string, object | Set<string>>();

  /** Adds `row` unless an identical row of the same kind is already there. */
  push<K extends keyof IndexRows>(kind: K, row: IndexRows[K][number]): void {
    const group = `${kind}\u0000${row.param}`;
    const seen = this.groups.get(group);
    if (seen === undefined) {
      this.groups.set(group, row);
    } else {
      let keys: Set<string>;
      if (seen instanceof Set) keys = seen;
      else this.groups.set(group, (keys = new Set([rowKey(seen)])));
      const key = rowKey(row);
      if (keys.has(key)) return;
      keys.add(key);
    }
    (this.rows[kind] as IndexRows[K][number][]).push(row);
  }
}

/** Every field of a row, in order; NUL cannot occur in FHIR strings and \u0001 keeps null apart from the text 'null'. */
function rowKey(row: object): string {
  let key = '';
  for (const field in row) key += '\u0000' + ((row as Record<string, unknown>)[field] ?? '\u0001');
  return key;
}
