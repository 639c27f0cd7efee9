/**
 * Consent lookups against the store, for the access policy and the referral rules. A revoked or
 * expired consent stops counting on the very next request, on every instance: per-client
 * decisions read the store each time, and the one thing cached — an organisation's grants as a
 * search predicate, costly to build when thousands of clients consented — is checked on every use
 * against the store's 'consent' change counter (raised in the unit of work of every Consent write
 * and erasure) and against the next instant at which a consent period starts or ends.
 */
import type { Consent, ConsentProvision } from '@medplum/fhirtypes';
import type { ParamRef, Predicate, SearchPlan } from '../search/plan';
import type { StoreReader } from '../store/port';
import { type AccessQuestion, type CompiledProvision, type ConsentDecision, type HolderOf, compileProvision, consentInForce, decideAccess, provisionPredicates } from './decision';

const PAGE = 1000;
const RECIPIENT: ParamRef = { base: 'Consent', code: 'recipient', type: 'reference' };
const PATIENT: ParamRef = { base: 'Consent', code: 'patient', type: 'reference' };
const STATUS: ParamRef = { base: 'Consent', code: 'status', type: 'token' };

const ACTIVE: Predicate = { kind: 'param', param: STATUS, values: [{ type: 'token', token: { code: 'active' } }] };

/** Consents as stored, with the organisation that recorded each (by consent id). */
interface Held {
  consents: Consent[];
  holders: Map<string, string>;
}

async function allConsents(reader: StoreReader, where: Predicate[]): Promise<Held> {
  const out: Held = { consents: [], holders: new Map() };
  let cursor: string | undefined;
  do {
    const plan: SearchPlan = { types: ['Consent'], where, sort: [], count: PAGE, total: 'none', cursor };
    const page = await reader.search(plan);
    for (const m of page.matches) {
      if (!m.resource) continue;
      out.consents.push(m.resource as Consent);
      if (m.custodian) out.holders.set(m.id, m.custodian);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Clients per lookup: each is one alternative of the search, and searches bound those (MAX_OR_VALUES). */
const PATIENTS_PER_LOOKUP = 150;

async function heldConsentsOf(reader: StoreReader, patients: string[]): Promise<Held> {
  const out: Held = { consents: [], holders: new Map() };
  for (let i = 0; i < patients.length; i += PATIENTS_PER_LOOKUP) {
    const values = patients.slice(i, i + PATIENTS_PER_LOOKUP).map((id) => ({ type: 'reference' as const, ref: { targetType: 'Patient', id } }));
    const held = await allConsents(reader, [ACTIVE, { kind: 'param', param: PATIENT, values }]);
    out.consents.push(...held.consents);
    for (const [k, v] of held.holders) out.holders.set(k, v);
  }
  return out;
}

/** Active consents of these clients (any actor). */
export async function consentsOf(reader: StoreReader, patients: string[]): Promise<Consent[]> {
  return (await heldConsentsOf(reader, patients)).consents;
}

/** The recorder of each consent of `holders`, as decideAccess wants it. */
export function holderLookup(holders: ReadonlyMap<string, string>): HolderOf {
  return (c) => (c.id ? holders.get(c.id) : undefined);
}

/** Active consents naming `org` as an actor anywhere in their provisions. */
async function consentsNaming(reader: StoreReader, org: string): Promise<Consent[]> {
  return (await allConsents(reader, [ACTIVE, { kind: 'param', param: RECIPIENT, values: [{ type: 'reference', ref: { targetType: 'Organization', id: org } }] }])).consents;
}

function patientIdOf(c: Consent): string | undefined {
  const ref = c.patient?.reference;
  return ref?.startsWith('Patient/') ? ref.slice('Patient/'.length) : undefined;
}

function hasNamedPermit(p: CompiledProvision): boolean {
  return (p.type === 'permit' && p.recipientNamed) || p.children.some(hasNamedPermit);
}

/** A root that denies the recipient everything (no data conditions, no permitting exceptions). */
function deniesAll(p: CompiledProvision): boolean {
  return p.type === 'deny' && !p.data.types && !p.data.labels && !p.children.some(hasNamedPermit);
}

/** The consent (by id) that lets `recipientOrg` receive this client at all, for `purpose`, now. */
function grantingConsent(consents: readonly Consent[], patient: string, recipientOrg: string, purpose: string, now: Date): string | undefined {
  let granted: string | undefined;
  for (const c of consents) {
    // Whose data it governs does not matter here: any consent in force may admit the recipient.
    if (!c.provision || !consentInForce({ ...c, organization: undefined }, patient, undefined, now)) continue;
    const compiled = compileProvision(c.provision, recipientOrg, purpose, now);
    if (!compiled) continue;
    if (deniesAll(compiled)) return undefined;
    if (hasNamedPermit(compiled)) granted ??= c.id;
  }
  return granted;
}

/** Decides one access question against the client's stored consents. */
export async function consentDecision(reader: StoreReader, q: AccessQuestion): Promise<ConsentDecision> {
  if (q.type === 'Patient') {
    const id = grantingConsent(await consentsOf(reader, [q.patient]), q.patient, q.recipientOrg, q.purpose ?? 'TREAT', q.now);
    return id ? { permit: true, consentId: id } : { permit: false };
  }
  const held = await heldConsentsOf(reader, [q.patient]);
  return decideAccess(held.consents, q, holderLookup(held.holders));
}

/**
 * The id of an active consent of the client that permits `recipientOrg` (for treatment, now):
 * what a referral to that organisation needs. Undefined when there is none or a consent denies it.
 */
export async function referralConsent(reader: StoreReader, patientId: string, recipientOrg: string, now = new Date()): Promise<string | undefined> {
  return grantingConsent(await consentsOf(reader, [patientId]), patientId, recipientOrg, 'TREAT', now);
}

/** Consented access of one organisation, as loaded for one request. */
export interface ConsentGrants {
  /** The search predicate of everything the consents let the organisation see; undefined when nothing. */
  predicate?: Predicate;
  /** The consents per client, to name the one that permitted each access in the audit trail. */
  byPatient: Map<string, Consent[]>;
  /** The organisation that recorded each of those consents (by id): its permits reach only its data. */
  holders: Map<string, string>;
}

/**
 * What consents let `org` see, as one search predicate: per client, the client's Patient and the
 * resources a permit covers and no deny does, held by the organisations each consent governs.
 * Clients with the same consent shape share one branch (`patient IN (…)`).
 */
export async function consentGrants(reader: StoreReader, org: string, purpose = 'TREAT', now = new Date()): Promise<ConsentGrants> {
  const stamp = await reader.stamp(CONSENT_STAMP);
  let cache = grantCaches.get(reader);
  if (!cache) grantCaches.set(reader, (cache = new Map()));
  const key = `${org}|${purpose}`;
  const hit = cache.get(key);
  if (hit && hit.stamp === stamp && now.getTime() < hit.validUntil) return hit.grants;
  const grants = await buildGrants(reader, org, purpose, now);
  cache.set(key, { stamp, validUntil: nextBoundary(grants.byPatient, now), grants });
  return grants;
}

/** The change counter every Consent write and erasure raises (src/consent/module.ts, $erase). */
export const CONSENT_STAMP = 'consent';

interface CachedGrants {
  stamp: number;
  /** Epoch ms at which some consent period starts or ends: the grants may differ from then on. */
  validUntil: number;
  grants: ConsentGrants;
}

/** Per store (each test app has its own), per organisation and purpose. */
const grantCaches = new WeakMap<StoreReader, Map<string, CachedGrants>>();

/** The earliest period start or end after `now` among the consents, or +∞. */
function nextBoundary(byPatient: ReadonlyMap<string, Consent[]>, now: Date): number {
  let next = Number.POSITIVE_INFINITY;
  const t = now.getTime();
  const visit = (p: ConsentProvision | undefined): void => {
    if (!p) return;
    for (const edge of [p.period?.start, p.period?.end]) {
      if (!edge) continue;
      // A date-only end covers its whole day (decision.ts periodHolds).
      const at = edge.length <= 10 && edge === p.period?.end ? Date.parse(edge) + 86_400_000 : Date.parse(edge);
      if (at > t && at < next) next = at;
    }
    p.provision?.forEach(visit);
  };
  for (const consents of byPatient.values()) for (const c of consents) visit(c.provision);
  return next;
}

async function buildGrants(reader: StoreReader, org: string, purpose: string, now: Date): Promise<ConsentGrants> {
  const naming = await consentsNaming(reader, org);
  const patients = [...new Set(naming.map(patientIdOf).filter((p): p is string => !!p))];
  const byPatient = new Map<string, Consent[]>();
  if (!patients.length) return { byPatient, holders: new Map() };
  const held = await heldConsentsOf(reader, patients);
  for (const c of held.consents) {
    const p = patientIdOf(c);
    if (p) byPatient.set(p, [...(byPatient.get(p) ?? []), c]);
  }
  const shapes = new Map<string, { predicate: Predicate; patients: string[] }>();
  const patientsSeen: string[] = [];
  for (const [patient, consents] of byPatient) {
    if (!grantingConsent(consents, patient, org, purpose, now)) continue;
    patientsSeen.push(patient);
    const permits: Predicate[] = [];
    const denies: Predicate[] = [];
    for (const c of consents) {
      if (!c.provision || c.status !== 'active') continue;
      const compiled = compileProvision(c.provision, org, purpose, now);
      if (!compiled || !consentInForce({ ...c, organization: undefined }, patient, undefined, now)) continue;
      const { permit, deny } = provisionPredicates(compiled);
      const orgs = (c.organization ?? []).map((o) => o.reference?.replace(/^Organization\//, '')).filter((o): o is string => !!o);
      const within = (custodians: string[], q: Predicate): Predicate => ({ kind: 'and', all: [{ kind: 'custodian', custodians }, q] });
      // A permit reaches only what the consent's recorder holds (decision.ts, permitReaches).
      const holder = c.id ? held.holders.get(c.id) : undefined;
      const permitOrgs = holder && (!orgs.length || orgs.includes(holder)) ? [holder] : [];
      permits.push(within(permitOrgs, permit));
      denies.push(orgs.length ? within(orgs, deny) : deny);
    }
    if (!permits.length) continue;
    const predicate: Predicate = {
      kind: 'and',
      all: [{ kind: 'or', any: permits }, { kind: 'not', inner: { kind: 'or', any: denies } }],
    };
    const key = JSON.stringify(predicate);
    const shape = shapes.get(key) ?? { predicate, patients: [] };
    shape.patients.push(patient);
    shapes.set(key, shape);
  }
  const branches: Predicate[] = [...shapes.values()].map((s) => ({ kind: 'and', all: [{ kind: 'patient', patients: s.patients }, { kind: 'not', inner: { kind: 'type', types: ['Patient'] } }, s.predicate] }));
  // A Patient's own row carries its id as `patient`: one list, however many clients consented.
  if (patientsSeen.length) branches.push({ kind: 'and', all: [{ kind: 'type', types: ['Patient'] }, { kind: 'patient', patients: patientsSeen }] });
  return { predicate: branches.length ? { kind: 'or', any: branches } : undefined, byPatient, holders: held.holders };
}
