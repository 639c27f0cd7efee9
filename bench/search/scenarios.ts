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
  /** Clients with a referral Task owned by RECEIVER: the ones its clinicians see through the referral rule. */
  referred: Client[];
}

/**
 * The referral receiver of the visibility scenarios. The loader makes org-1 custodian of
 * everything and enrols every client there, so an org-1 clinician never reaches the referral
 * rule (`_has:Task` in src/policy/access.ts); a clinician at another organisation does, on every
 * candidate that is not its own.
 */
export const RECEIVER = 'org-2';

export interface Scenario {
  name: string;
  /** The query as a reader would write it, with placeholders, for the report. */
  shape: string;
  type: string;
  /** The clinician's organisation; org-1 (custodian of everything) unless given. */
  org?: string;
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
  const referred = db
    .prepare(
      // CROSS JOIN and INDEXED BY fix the order: from the receiver's Tasks out (SQLite without
      // statistics otherwise reads every client code for each Task).
      `SELECT DISTINCT r.id AS id, t.code AS code FROM idx_ref o
       CROSS JOIN idx_ref s INDEXED BY idx_ref_rid ON s.rid = o.rid AND s.param = 'Task.subject'
       CROSS JOIN resources r ON r.type = 'Patient' AND r.id = s.target_id AND r.deleted = 0
       CROSS JOIN idx_token t INDEXED BY idx_token_rid ON t.rid = r.rid AND t.param = 'Patient.identifier' AND t.system = ?
       WHERE o.param = 'Task.owner' AND o.target_type = 'Organization' AND o.target_id = ?
       ORDER BY r.id`,
    )
    .all(CLIENT_CODE_SYSTEM, RECEIVER) as Client[];
  if (!referred.length) throw new Error(`the database holds no clients referred to ${RECEIVER}`);
  return { clients, referred };
}

/** Half the time a client referred to the receiver (visible), half any client (mostly not). */
const receiverClient = (rng: Rng, s: Sample): Client => rng.pick(rng.int(2) ? s.referred : s.clients);

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
  // Issue #3: the referral rule's `_has:Task` once listed every referral the receiver owns per search.
  {
    name: 'visibility: client code, as a referral receiver',
    shape: 'Patient?identifier=<code> (clinician at org-2)',
    type: 'Patient',
    org: RECEIVER,
    query: (rng, s) => [['identifier', receiverClient(rng, s).code]],
  },
  {
    name: 'visibility: chain, as a referral receiver',
    shape: 'Task?focus:ServiceRequest.subject:Patient.identifier=<code> (clinician at org-2)',
    type: 'Task',
    org: RECEIVER,
    query: (rng, s) => [['focus:ServiceRequest.subject:Patient.identifier', receiverClient(rng, s).code]],
  },
  {
    name: 'visibility: revinclude, as a referral receiver',
    shape: 'Patient?_id=<id>&_revinclude=Observation:subject (clinician at org-2)',
    type: 'Patient',
    org: RECEIVER,
    query: (rng, s) => [['_id', receiverClient(rng, s).id], ['_revinclude', 'Observation:subject']],
  },
];
