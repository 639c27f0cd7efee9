/**
 * The synthetic programme generator: clinics and community organisations, then one life history
 * per client up to a reference date. Pure and deterministic: the same options give the same
 * resources, byte for byte; client k does not depend on how many clients there are. Nobody is
 * real: a client is a random client code, a gender and a birth year (no name, phone or address).
 */
import type { Encounter, Observation, Organization, Patient } from '@medplum/fhirtypes';
import { CLIENT_CODE_SYSTEM } from '../privacy/client-code';
import * as C from './codes';
import { ClientBuilder, DAY_MS, type SeedItem, cc, ref } from './fhir';
import { type ClientFacts, hivPathway } from './hiv';
import { clientRng, seededClientCode, seededUuid } from './prng';
import { consent } from './referrals';
import { cervical, harmReduction, hepatitis, otherReferral, postRapeCare, sti, tb } from './services';

export type { SeedItem } from './fhir';
export type { ClientFacts } from './hiv';

export interface SeedOptions {
  clients: number;
  seed: number;
  /** Reference date (FHIR date): histories run up to it. Default 2025-06-30, so output never depends on the clock. */
  asOf?: string;
  clinics?: number;
  communityOrgs?: number;
  /** Clients per yielded batch. */
  batchClients?: number;
}

export interface SeedBatch {
  items: SeedItem[];
  facts: ClientFacts[];
}

export const DEFAULT_AS_OF = '2025-06-30';
/** Histories start up to two years before the reference date. */
const HISTORY_DAYS = 730;

export interface Orgs {
  clinics: string[];
  community: string[];
}

/** Organisation ids of a programme (stable, readable: they appear in tokens' `org`). */
export function orgIds(o: Pick<SeedOptions, 'clinics' | 'communityOrgs'> = {}): Orgs {
  return {
    clinics: Array.from({ length: o.clinics ?? 3 }, (_, i) => `clinic-${i + 1}`),
    community: Array.from({ length: o.communityOrgs ?? 4 }, (_, i) => `community-${i + 1}`),
  };
}

function organizations(orgs: Orgs): SeedItem[] {
  const org = (id: string, clinic: boolean, n: number): SeedItem => ({
    resource: {
      resourceType: 'Organization',
      id,
      active: true,
      type: [cc({ system: C.ORG_TYPE, code: clinic ? 'prov' : 'cg', display: clinic ? 'Healthcare Provider' : 'Community Group' })],
      name: clinic ? `Linkcare Clinic ${n}` : `Sex Worker Collective ${n}`,
    } satisfies Organization & { id: string },
    custodian: id,
  });
  return [...orgs.clinics.map((id, i) => org(id, true, i + 1)), ...orgs.community.map((id, i) => org(id, false, i + 1))];
}

/** One client's whole history (k counts from 0). */
export function generateClient(opts: SeedOptions, orgs: Orgs, k: number): { items: SeedItem[]; facts: ClientFacts } {
  const asOf = Date.parse(`${opts.asOf ?? DEFAULT_AS_OF}T00:00:00Z`);
  const rng = clientRng(opts.seed, k);
  const patient = seededUuid(opts.seed, k, 0);
  const b = new ClientBuilder(opts.seed, k, rng, asOf, patient);
  const clinic = orgs.clinics[k % orgs.clinics.length]!;
  const home = rng.chance(0.7) ? orgs.community[k % orgs.community.length]! : clinic;
  const start = asOf - rng.int(1, HISTORY_DAYS) * DAY_MS;
  const facts: ClientFacts = {
    patient,
    clientCode: seededClientCode(opts.seed, k),
    home,
    clinic,
    gender: rng.weighted([['female', 75], ['male', 12], ['other', 13]] as const),
    birthYear: new Date(asOf).getUTCFullYear() - rng.int(18, 55),
    pwid: rng.chance(0.15),
    viralLoads: [],
    conclusions: [],
  };
  const p: Patient & { id: string } = {
    resourceType: 'Patient',
    id: patient,
    identifier: [{ use: 'official', system: CLIENT_CODE_SYSTEM, value: facts.clientCode }],
    active: true,
    gender: facts.gender,
    birthDate: String(facts.birthYear),
    managingOrganization: ref('Organization', home),
  };
  b.items.push({ resource: p, custodian: home, patient, clientCode: facts.clientCode, enrol: home === clinic ? [home] : [home, clinic] });
  keyPopulation(b, home, start, facts.pwid);
  if (home !== clinic) {
    for (let n = rng.int(1, 2); n > 0; n--) outreach(b, home, start + rng.int(0, Math.floor((asOf - start) / DAY_MS)) * DAY_MS);
    if (rng.chance(0.75)) consent(b, home, clinic, start, rng.chance(0.93), rng.chance(0.05));
  }
  // Baseline prevalence ~8 %; about 1.5 % acquire HIV during the two years.
  const infectedFrom = rng.chance(0.08) ? 0 : rng.chance(0.015) ? start + rng.int(30, HISTORY_DAYS) * DAY_MS : undefined;
  hivPathway(b, facts, start, infectedFrom);
  tb(b, facts, start);
  hepatitis(b, facts, start);
  sti(b, facts, start);
  cervical(b, facts, start);
  postRapeCare(b, facts, start);
  harmReduction(b, facts, start);
  otherReferral(b, facts, start);
  return { items: b.items, facts };
}

function keyPopulation(b: ClientBuilder, org: string, day: number, pwid: boolean): void {
  const kp = (value: typeof C.SEX_WORKER): Observation => b.observation(org, b.time(day), C.KEY_POPULATION, { valueCodeableConcept: cc(value) }, 'social-history');
  kp(C.SEX_WORKER);
  if (pwid) kp(C.PWID);
}

function outreach(b: ClientBuilder, org: string, day: number): void {
  b.add<Encounter & { id: string }>({
    resourceType: 'Encounter',
    id: b.id(),
    status: 'finished',
    class: { system: C.ACT_CODE, code: 'FLD', display: 'field' },
    type: [cc(C.CONTACTS.outreach)],
    subject: ref('Patient', b.patient),
    period: { start: b.time(day), end: b.time(day) },
    serviceProvider: ref('Organization', org),
  }, org);
}

/** The programme in batches: the organisations first, then `batchClients` clients at a time. */
export function* generateProgramme(opts: SeedOptions): Generator<SeedBatch> {
  if (!Number.isInteger(opts.clients) || opts.clients < 0) throw new Error('clients must be a whole number ≥ 0');
  const orgs = orgIds(opts);
  yield { items: organizations(orgs), facts: [] };
  const per = opts.batchClients ?? 500;
  for (let k = 0; k < opts.clients; k += per) {
    const batch: SeedBatch = { items: [], facts: [] };
    for (let j = k; j < Math.min(opts.clients, k + per); j++) {
      const c = generateClient(opts, orgs, j);
      batch.items.push(...c.items);
      batch.facts.push(c.facts);
    }
    yield batch;
  }
}
