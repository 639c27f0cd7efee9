/**
 * The consent decision: may organisation B see this resource about a client, held by A, for this
 * purpose, now? Consents are shaped like IHE Privacy Consent on FHIR
 * (https://profiles.ihe.net/ITI/PCF/) over R4 Consent (http://hl7.org/fhir/R4/consent.html):
 * a base provision (permit or deny) with nested provisions as exceptions.
 *
 * Rules, chosen to fail closed for people whose data can put them in danger:
 * - only `active` consents with scope patient-privacy count, within their provision periods;
 * - `Consent.organization` names the custodians whose data the consent governs (absent = all);
 * - a provision applies when its actor (role IRCP) names the recipient, its purpose includes the
 *   request's, its class (resource types) includes the type and its code/securityLabel meets the
 *   resource's sensitivity labels — each only when given;
 * - within a provision, a matching nested provision overrides it; among matching siblings deny wins;
 * - a permit counts only when the recipient is named as actor on its path: a consent never opens
 *   data to every organisation by omission; a deny with no actor denies everyone;
 * - across consents, any deny wins over any permit;
 * - a permit opens only data held by the organisation that recorded the consent (security review):
 *   an organisation where the client is also enrolled cannot record a permit for itself and so read
 *   what others hold. A deny counts wherever `Consent.organization` says: a refusal may be recorded
 *   by any organisation the client goes to.
 */
import type { Consent, ConsentProvision } from '@medplum/fhirtypes';
import type { Predicate } from '../search/plan';
import { SUPPORTED_TYPES } from '../fhir/resource-types';
import { ACT_CODE } from './labels';

export const RECIPIENT_ROLE = 'IRCP';
export const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const PRIVACY_SCOPE = 'patient-privacy';

/** What is being asked of the consents. */
export interface AccessQuestion {
  /** Client (Patient id) the resource is about. */
  patient: string;
  /** Organisation holding the resource. */
  custodian?: string;
  /** Organisation of the user asking. */
  recipientOrg: string;
  /** Resource type. */
  type: string;
  /** Sensitivity labels of the resource (src/consent/labels.ts). */
  labels: readonly string[];
  /** v3-ActReason purpose of use; TREAT by default. */
  purpose?: string;
  now: Date;
}

export interface ConsentDecision {
  permit: boolean;
  /** The consent that permitted (or the first that denied). */
  consentId?: string;
}

/** Whether the consent is in force for the client's data held by `custodian` at `now`. */
export function consentInForce(consent: Consent, patient: string, custodian: string | undefined, now: Date): boolean {
  if (consent.status !== 'active') return false;
  if (consent.patient?.reference !== `Patient/${patient}`) return false;
  if (!consent.scope?.coding?.some((c) => c.code === PRIVACY_SCOPE)) return false;
  const orgs = (consent.organization ?? []).map((o) => o.reference);
  if (orgs.length && (!custodian || !orgs.includes(`Organization/${custodian}`))) return false;
  return periodHolds(consent.provision?.period, now);
}

function periodHolds(period: { start?: string; end?: string } | undefined, now: Date): boolean {
  if (!period) return true;
  const t = now.getTime();
  if (period.start && Date.parse(period.start) > t) return false;
  // An end given as a date covers that whole day.
  if (period.end && (period.end.length <= 10 ? Date.parse(period.end) + 86_400_000 : Date.parse(period.end)) <= t) return false;
  return true;
}

/** Request-level conditions of one provision: actor, purpose, period. */
interface Static {
  /** undefined: the provision names no recipient (neither requires nor grants one). */
  namesRecipient?: boolean;
  applies: boolean;
}

function staticMatch(p: ConsentProvision, recipientOrg: string, purpose: string, now: Date): Static {
  if (!periodHolds(p.period, now)) return { applies: false };
  if (p.purpose?.length && !p.purpose.some((c) => c.code === purpose)) return { applies: false };
  const recipients = (p.actor ?? []).filter((a) => a.role?.coding?.some((c) => c.code === RECIPIENT_ROLE));
  if (!recipients.length) return { applies: true };
  const named = recipients.some((a) => a.reference?.reference === `Organization/${recipientOrg}`);
  return named ? { applies: true, namesRecipient: true } : { applies: false };
}

/** Resource-level conditions of a provision (class, code/securityLabel) as data. */
interface DataMatch {
  types?: string[];
  labels?: string[];
}

function dataMatch(p: ConsentProvision): DataMatch {
  const types = (p.class ?? []).map((c) => c.code).filter((c): c is string => !!c);
  const labels = [...(p.securityLabel ?? []), ...(p.code ?? []).flatMap((c) => c.coding ?? [])]
    .map((c) => c.code)
    .filter((c): c is string => !!c);
  return { ...(types.length ? { types } : {}), ...(labels.length ? { labels } : {}) };
}

function dataHolds(m: DataMatch, type: string, labels: readonly string[]): boolean {
  if (m.types && !m.types.includes(type)) return false;
  if (m.labels && !m.labels.some((l) => labels.includes(l))) return false;
  return true;
}

/** A provision tree with request-level conditions resolved: what is left depends on the resource only. */
export interface CompiledProvision {
  type: 'permit' | 'deny';
  data: DataMatch;
  /** The recipient is named on the path from the root to here. */
  recipientNamed: boolean;
  children: CompiledProvision[];
}

/** Resolves actor, purpose and period of every provision; drops those that cannot apply. */
export function compileProvision(p: ConsentProvision, recipientOrg: string, purpose: string, now: Date, named = false): CompiledProvision | undefined {
  const s = staticMatch(p, recipientOrg, purpose, now);
  if (!s.applies) return undefined;
  const recipientNamed = named || s.namesRecipient === true;
  const children = (p.provision ?? [])
    .map((c) => compileProvision(c, recipientOrg, purpose, now, recipientNamed))
    .filter((c): c is CompiledProvision => !!c);
  return { type: p.type ?? 'deny', data: dataMatch(p), recipientNamed, children };
}

/** The effect of a compiled provision on one resource: permit, deny, or undefined when it does not apply. */
export function effectOn(p: CompiledProvision, type: string, labels: readonly string[]): 'permit' | 'deny' | undefined {
  if (!dataHolds(p.data, type, labels)) return undefined;
  const effects = p.children.map((c) => effectOn(c, type, labels)).filter((e) => e !== undefined);
  if (effects.includes('deny')) return 'deny';
  if (effects.includes('permit')) return 'permit';
  if (p.type === 'permit' && !p.recipientNamed) return undefined;
  return p.type;
}

/** The organisation that recorded (holds) a stored consent; undefined when unknown. */
export type HolderOf = (consent: Consent) => string | undefined;

/**
 * Whether a permit of this consent may open data held by `custodian`: only when the consent's
 * recorder holds the data. Without `holderOf` (a consent not read from the store) nothing narrows.
 */
export function permitReaches(consent: Consent, custodian: string | undefined, holderOf?: HolderOf): boolean {
  if (!holderOf) return true;
  const holder = holderOf(consent);
  return holder !== undefined && holder === custodian;
}

/** Decides one access question over the client's consents (deny wins; see the module comment). */
export function decideAccess(consents: readonly Consent[], q: AccessQuestion, holderOf?: HolderOf): ConsentDecision {
  const purpose = q.purpose ?? 'TREAT';
  let permitBy: string | undefined;
  for (const consent of consents) {
    if (!consent.provision || !consentInForce(consent, q.patient, q.custodian, q.now)) continue;
    const compiled = compileProvision(consent.provision, q.recipientOrg, purpose, q.now);
    const effect = compiled && effectOn(compiled, q.type, q.labels);
    if (effect === 'deny') return { permit: false, consentId: consent.id };
    if (effect === 'permit' && permitReaches(consent, q.custodian, holderOf)) permitBy ??= consent.id;
  }
  return permitBy ? { permit: true, consentId: permitBy } : { permit: false };
}

function dataPredicate(m: DataMatch): Predicate[] {
  const out: Predicate[] = [];
  if (m.types) out.push({ kind: 'type', types: m.types });
  if (m.labels) {
    const labels = m.labels;
    // Index rows are per type (`Observation._security`): one branch per type, which narrowing to
    // the searched type prunes to one.
    out.push(any(SUPPORTED_TYPES.map((t) => ({
      kind: 'and' as const,
      all: [
        { kind: 'type' as const, types: [t] },
        { kind: 'param' as const, param: { base: t, code: '_security', type: 'token' as const }, values: labels.map((code) => ({ type: 'token' as const, token: { system: ACT_CODE, code } })) },
      ],
    }))));
  }
  return out;
}

function all(ps: Predicate[]): Predicate {
  return ps.length === 1 ? ps[0]! : { kind: 'and', all: ps };
}

function any(ps: Predicate[]): Predicate {
  return ps.length === 1 ? ps[0]! : { kind: 'or', any: ps };
}

const TRUE: Predicate = { kind: 'and', all: [] };
const FALSE: Predicate = { kind: 'or', any: [] };

/**
 * The same semantics as effectOn, as search predicates over a resource: `permit` holds where the
 * effect is permit, `deny` where it is deny. Used to let searches see consented data.
 */
export function provisionPredicates(p: CompiledProvision): { permit: Predicate; deny: Predicate } {
  const here = dataPredicate(p.data);
  const kids = p.children.map(provisionPredicates);
  const childDeny = kids.length ? any(kids.map((k) => k.deny)) : FALSE;
  const childPermit = kids.length ? any(kids.map((k) => k.permit)) : FALSE;
  const childApplies = kids.length ? any(kids.map((k) => any([k.permit, k.deny]))) : FALSE;
  const ownEffect = p.type === 'permit' && !p.recipientNamed ? undefined : p.type;
  const noChild: Predicate = { kind: 'not', inner: childApplies };
  const permitParts: Predicate[] = [{ kind: 'and', all: [childPermit, { kind: 'not', inner: childDeny }] }];
  if (ownEffect === 'permit') permitParts.push(noChild);
  const denyParts: Predicate[] = [childDeny];
  if (ownEffect === 'deny') denyParts.push(noChild);
  return {
    permit: all([...here, any(permitParts)].filter((x) => x !== TRUE)),
    deny: all([...here, any(denyParts)].filter((x) => x !== TRUE)),
  };
}
