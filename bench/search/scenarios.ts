/**
 * The searches timed by the benchmark. Each run draws its values (client, test, week) from the
 * generated data with a seeded stream, so the page cache and the prepared statements see a
 * realistic spread rather than one hot row, and two runs with the same seed ask the same questions.
 */
import type Database from 'better-sqlite3';
import type { QueryPairs } from '../../src/fhir/context';
import { CLIENT_CODE_SYSTEM } from '../../src/privacy/client-code';
import type { Rng } from './prng';
import { SPAN_END, SPAN_START, TESTS } from './generate';

export interface Client {
  id: string;
  code: string;
}

/** What the scenarios draw from; read from the database so it matches whatever was loaded. */
export interface Sample {
  clients: Client[];
}

export interface Scenario {
  name: string;
  /** The query as a reader would write it, with placeholders, for the report. */
  shape: string;
  type: string;
  /** Query pairs for one run; `_total` is added by the runner. */
  query(rng: Rng, sample: Sample): QueryPairs;
}

export function readSample(db: Database.Database): Sample {
  const clients = db
    .prepare(
      `SELECT r.id AS id, t.code AS code FROM resources r JOIN idx_token t ON t.rid = r.rid AND t.param = 'Patient.identifier'
       WHERE r.type = 'Patient' AND r.deleted = 0 AND t.system = ?`,
    )
    .all(CLIENT_CODE_SYSTEM) as Client[];
  if (!clients.length) throw new Error('the database holds no clients with a client code');
  return { clients };
}

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export const SCENARIOS: Scenario[] = [
  {
    name: 'token: Observation by test code',
    shape: 'Observation?code=<system>|<code>&_count=20',
    type: 'Observation',
    query: (rng) => {
      const t = rng.pick(TESTS);
      return [['code', `${t.system}|${t.code}`], ['_count', '20']];
    },
  },
  {
    name: 'token: Patient by client code',
    shape: 'Patient?identifier=<code>',
    type: 'Patient',
    query: (rng, s) => [['identifier', rng.pick(s.clients).code]],
  },
  {
    name: 'reference: Observations of a client',
    shape: 'Observation?subject=Patient/<id>',
    type: 'Observation',
    query: (rng, s) => [['subject', `Patient/${rng.pick(s.clients).id}`]],
  },
  {
    name: 'date: Observations in one week',
    shape: 'Observation?date=ge<day>&date=lt<day+7>',
    type: 'Observation',
    query: (rng) => {
      const from = SPAN_START + rng.int(Math.floor((SPAN_END - SPAN_START) / DAY) - 7) * DAY;
      return [['date', `ge${day(from)}`], ['date', `lt${day(from + 7 * DAY)}`]];
    },
  },
  {
    name: 'chain: Tasks of a client code',
    shape: 'Task?focus:ServiceRequest.subject:Patient.identifier=<code>',
    type: 'Task',
    query: (rng, s) => [['focus:ServiceRequest.subject:Patient.identifier', rng.pick(s.clients).code]],
  },
  {
    name: 'revinclude: client with Observations',
    shape: 'Patient?_id=<id>&_revinclude=Observation:subject',
    type: 'Patient',
    query: (rng, s) => [['_id', rng.pick(s.clients).id], ['_revinclude', 'Observation:subject']],
  },
];
