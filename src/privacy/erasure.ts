/**
 * The right to erasure (`POST Patient/[id]/$erase`, issue #4): an admin of an organisation where
 * the client is enrolled, at the client's request, removes every resource about the client, all
 * their versions and index rows. Audit events keep only the client code.
 *
 * Two guards against a malicious or compromised member organisation (docs/security.md):
 * - every organisation that held a record about the client or had them enrolled gets its own
 *   AuditEvent of the erasure (an auditor sees the events its organisation holds), so an erasure
 *   done elsewhere is never invisible to the organisations that lost data;
 * - erasing a client known to other organisations needs a tie older than a guess: the caller's
 *   organisation must hold a record that has been about the client for ERASE_COOLDOWN_MS.
 *   Enrolling by `$register` with a guessed UIC, or writing a record a moment before, is not
 *   enough. A refusal is recorded for every organisation concerned too.
 */
import type { FhirContext, FhirRequest, FhirResponse } from '../fhir/context';
import { principalOf } from '../fhir/context';
import { forbidden, issue, notFound, outcome } from '../fhir/outcome';
import { readInput, outputParameters } from '../fhir/parameters';
import { SUPPORTED_TYPES } from '../fhir/resource-types';
import type { AuditEntry } from '../audit/events';
import { buildAuditEvent } from '../audit/events';
import { auditedUnit } from '../audit/recorder';
import { assertAllowed, canSee } from '../policy/access';
import type { SearchPlan } from '../search/plan';
import type { StoreReader, StoreTx, StoredVersion } from '../store/port';
import { CONSENT_STAMP } from '../consent/lookup';
import { clientCodeOf } from './client-code-assign';

/**
 * How long the caller's organisation must have held a record about the client before it may
 * erase what other organisations hold: long enough that a one-off guess (register, write, erase)
 * cannot do it in one sitting, and that the other organisations' auditors can notice the new tie.
 */
export const ERASE_COOLDOWN_MS = 24 * 60 * 60 * 1000;

const PAGE = 500;
/** Types that can carry a client (the Patient is read on its own; AuditEvents are never erased). */
const HELD_TYPES = SUPPORTED_TYPES.filter((t) => t !== 'AuditEvent' && t !== 'Patient');

/** Who an erasure touches: the organisations holding current records about the client, and where the client is enrolled. */
interface Affected {
  /** How many current resources about the client (its Patient included) each organisation holds. */
  held: Map<string, number>;
  /** The caller's organisation's current resources about the client. */
  own: StoredVersion[];
  /** Every organisation that holds a record or has an enrolment, sorted. */
  orgs: string[];
}

async function affectedBy(tx: StoreReader, patient: StoredVersion, org: string): Promise<Affected> {
  const held = new Map<string, number>();
  const own: StoredVersion[] = [];
  const count = (v: StoredVersion): void => {
    if (!v.custodian) return;
    held.set(v.custodian, (held.get(v.custodian) ?? 0) + 1);
    if (v.custodian === org) own.push(v);
  };
  if (!patient.deleted) count(patient);
  let cursor: string | undefined;
  do {
    const plan: SearchPlan = { types: HELD_TYPES, where: [{ kind: 'patient', patients: [patient.id] }], sort: [], count: PAGE, total: 'none', cursor };
    const page = await tx.search(plan);
    page.matches.forEach(count);
    cursor = page.nextCursor;
  } while (cursor);
  const orgs = [...new Set([...held.keys(), ...(await tx.enrolments(patient.id))])].sort();
  return { held, own, orgs };
}

/**
 * Whether `v` has been about the client, without a gap, since `cutoff` or earlier: its versions,
 * newest first, must reach back that far while still about the client and not deleted. A record
 * moved to this client (its subject changed) counts from the move, not from its first version.
 */
async function aboutClientSince(tx: StoreReader, v: StoredVersion, patientId: string, cutoff: number): Promise<boolean> {
  let cursor: string | undefined;
  do {
    const page = await tx.history({ type: v.type, id: v.id, count: 50, cursor });
    for (const e of page.entries) {
      const about = e.type === 'Patient' ? e.id === patientId : e.patient === patientId;
      if (e.deleted || !about) return false;
      if (Date.parse(e.lastUpdated) <= cutoff) return true;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return false;
}

/** Whether one of the caller's organisation's records has been about the client since `cutoff`. */
async function tiedSince(tx: StoreReader, own: StoredVersion[], patientId: string, cutoff: number): Promise<boolean> {
  for (const v of own) if (await aboutClientSince(tx, v, patientId, cutoff)) return true;
  return false;
}

/** Appends one copy of `entry` for each organisation in `orgs`, held by it: what makes it visible to that organisation's auditors. */
async function recordFor(tx: StoreTx, req: FhirRequest, orgs: string[], entry: (org: string) => AuditEntry): Promise<void> {
  for (const org of orgs) await tx.appendAudit(buildAuditEvent(req.audit.context, entry(org), new Map()), org);
}

const REFUSAL =
  'Erasure refused: the client is known to other organisations, and your organisation has held no record about the client ' +
  `for ${ERASE_COOLDOWN_MS / 3_600_000} hours. An organisation that has cared for the client longer can erase at the client's request; ` +
  'the attempt has been recorded for every organisation concerned.';

type Result = { refused: true } | { refused: false; removed: number; code?: string };

/** POST Patient/[id]/$erase */
export async function erase(ctx: FhirContext, req: FhirRequest, id: string): Promise<FhirResponse> {
  const principal = principalOf(req);
  readInput<Record<string, never>>(req, 'erase');
  if (!principal.roles.includes('admin')) throw forbidden('Only an administrator may erase a client');
  assertAllowed(principal, 'Patient', 'r');
  const patient = await ctx.store.read('Patient', id);
  if (!patient || !(await canSee(principal, patient, ctx.store))) throw notFound(`Patient/${id} not found`);
  const cutoff = Date.now() - ERASE_COOLDOWN_MS;
  const result = await auditedUnit<Result>(ctx.store, req.audit, async (tx) => {
    const current = await tx.read('Patient', id);
    if (!current) throw notFound(`Patient/${id} not found`);
    const code = clientCodeOf(current.resource) ?? clientCodeOf((await tx.history({ type: 'Patient', id, count: 50 })).entries.find((e) => e.resource)?.resource);
    const codes = code ? { clientCodes: [code] } : {};
    const { held, own, orgs } = await affectedBy(tx, current, principal.org);
    const others = orgs.filter((o) => o !== principal.org);
    if (others.length && !(await tiedSince(tx, own, id, cutoff))) {
      const refusal: AuditEntry = { action: 'E', subtype: '$erase', outcome: '4', outcomeDesc: '403: erasure refused: no record held here long enough, client known to other organisations', ...codes };
      req.audit.add(refusal);
      await recordFor(tx, req, others, () => ({ ...refusal, outcomeDesc: `403: erasure refused, attempted by Organization/${principal.org}` }));
      return { refused: true };
    }
    const removed = await tx.erasePatient(id);
    // The client's consents went too: cached consent grants must be rebuilt.
    await tx.touch(CONSENT_STAMP);
    const mine = held.get(principal.org) ?? 0;
    req.audit.add({ action: 'D', subtype: '$erase', outcome: '0', outcomeDesc: `${removed} resource(s) erased, ${mine} of them held by this organisation`, ...codes });
    await recordFor(tx, req, others, (org) => ({
      action: 'D', subtype: '$erase', outcome: '0',
      outcomeDesc: `${removed} resource(s) erased by Organization/${principal.org}, ${held.get(org) ?? 0} of them held by this organisation`,
      ...codes,
    }));
    return { refused: false, removed, ...(code ? { code } : {}) };
  });
  // Returned, not thrown: the refusal is already on record (for the caller and every organisation
  // concerned, naming the client code), and a thrown error would record a second, vaguer event.
  if (result.refused) return { status: 403, body: outcome(issue('forbidden', REFUSAL)) };
  await ctx.store.purge();
  return {
    status: 200,
    body: outputParameters([
      { name: 'erased', valueInteger: result.removed },
      ...(result.code ? [{ name: 'clientCode', valueString: result.code }] : []),
    ]),
  };
}
