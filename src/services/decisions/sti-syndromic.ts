/**
 * Syndromic STI treatment options (SWIT 5.6) read from a versioned table a programme edits
 * without code changes: schemas/services/sti-syndromic-table.json, checked against its schema
 * when loaded so a bad edit fails at start-up rather than at a client's visit.
 */
import { projectRoot } from '../../project-root';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { type Decision, impossible, ok } from './result';
import type { Sex } from './post-exposure';

export type StiSyndrome = 'urethral-discharge' | 'vaginal-discharge' | 'genital-ulcer' | 'lower-abdominal-pain' | 'anorectal-discharge';

export interface StiOption {
  regimen: string;
  note: string;
}

export interface StiRow {
  rule: string;
  syndrome: StiSyndrome;
  sex?: Sex[];
  pregnant?: boolean;
  reference?: string;
  options: StiOption[];
}

export interface StiTable {
  version: string;
  reviewStatus: string;
  source: string[];
  rows: StiRow[];
}

export interface StiInput {
  syndrome: StiSyndrome;
  sex: Sex;
  pregnant: boolean;
}

export interface StiOutcome {
  options: StiOption[];
  rule: string;
  tableVersion: string;
  reviewStatus: string;
}

const TABLE_DIR = join(projectRoot(), 'schemas/services');
export const STI_TABLE_FILE = join(TABLE_DIR, 'sti-syndromic-table.json');

/** Reads and checks a syndromic table file (JSON Schema draft-07, https://json-schema.org/draft-07). */
export function loadStiTable(file: string = STI_TABLE_FILE): StiTable {
  const schema = JSON.parse(readFileSync(join(TABLE_DIR, 'sti-syndromic-table.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  const table = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (!validate(table)) {
    const why = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ');
    throw new Error(`${file} is not a valid syndromic STI table: ${why}`);
  }
  const t = table as StiTable;
  const ids = t.rows.map((r) => r.rule);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  // A rule id must name one row, or a recorded answer could not be traced back to its regimen.
  if (dup) throw new Error(`${file}: rule ${dup} names more than one row`);
  return t;
}

let cached: StiTable | undefined;

/** The table in schemas/services, read once per process (https://json-schema.org/draft-07). */
export function defaultStiTable(): StiTable {
  return (cached ??= loadStiTable());
}

/** Treatment options for an STI syndrome from the programme's table (WHO 2021, https://www.who.int/publications/i/item/9789240024168). */
export function stiSyndromic(input: StiInput, table: StiTable = defaultStiTable()): Decision<StiOutcome> {
  if (input.pregnant && input.sex === 'male') return impossible('pregnant', 'pregnant is true for sex male');
  const row = table.rows.find(
    (r) => r.syndrome === input.syndrome && (r.sex === undefined || r.sex.includes(input.sex)) && (r.pregnant === undefined || r.pregnant === input.pregnant),
  );
  if (!row) {
    return impossible('syndrome', `The syndromic table (version ${table.version}) has no row for ${input.syndrome} with sex ${input.sex}${input.pregnant ? ', pregnant' : ''}`);
  }
  return ok({ options: row.options, rule: row.rule, tableVersion: table.version, reviewStatus: table.reviewStatus });
}
