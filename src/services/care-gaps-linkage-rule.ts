/**
 * The write rule that keeps the HIV care episode (care-gaps-linkage.ts) in step with the record:
 * after an HIV conclusion or an ART prescription is written, the writing organisation's episode
 * for that client is re-derived from what the organisation holds, in the same unit of work; after
 * an assay of the strategy is written, so is the episode of every organisation holding a
 * conclusion that cites it (an assay recorded or corrected after its conclusion).
 * Per organisation, because custody is per organisation: one clinic's ART start must not show in
 * another's record; linkage across organisations is followed through the referral Task loop.
 * Whether a positive conclusion diagnoses is decided on the assays the organisation may see, its
 * own and those shared by consent, as the conclusion write rule decides it (`assaysBehind`).
 */
import type { MedicationRequest, Observation, Resource } from '@medplum/fhirtypes';
import type { Principal } from '../auth/principal';
import type { WriteRule } from '../fhir/rules';
import type { Predicate, SearchPlan } from '../search/plan';
import type { StoreTx, StoredVersion } from '../store/port';
import * as C from '../seed/codes';
import { episodeId, hivCareEpisode } from './care-gaps-linkage';
import { VOID_STATUSES as VOID, assaysBehind, conclusionSupport, has, hasAny, memberIds } from './hiv-conclusion';
import { withSensitivityLabels } from '../consent/labels';



/** Whether a resource can change the episode: an HIV conclusion or an ART prescription. */
export function touchesLinkage(r: Resource | undefined): boolean {
  if (r?.resourceType === 'Observation') return has(r.code, C.HIV_CONCLUSION);
  if (r?.resourceType === 'MedicationRequest') return hasAny(r.medicationCodeableConcept, C.ART_CODINGS);
  return false;
}

/** Whether a resource is an assay of the HIV testing strategy (it carries an assay number, HIV.B.DE88). */
const isAssay = (r: Resource | undefined): boolean => r?.resourceType === 'Observation' && !!r.component?.some((x) => has(x.code, C.ASSAY_NUMBER));

/** The client's resources of `type` with `code`, held by `org` (any organisation when absent). */
function held(type: string, patient: string, org: string | undefined, system: string, code: string): SearchPlan {
  const where: Predicate[] = [
    { kind: 'param', param: { base: type, code: 'patient', type: 'reference' }, values: [{ type: 'reference', ref: { targetType: 'Patient', id: patient } }] },
    { kind: 'param', param: { base: type, code: 'code', type: 'token' }, values: [{ type: 'token', token: { system, code } }] },
  ];
  if (org) where.push({ kind: 'custodian', custodians: [org] });
  return { types: [type], where, sort: [], count: 1000, total: 'none' };
}

async function versions(tx: StoreTx, plan: SearchPlan): Promise<StoredVersion[]> {
  const out: StoredVersion[] = [];
  let cursor: string | undefined;
  do {
    const page = await tx.search(cursor ? { ...plan, cursor } : plan);
    out.push(...page.matches.filter((m) => !!m.resource));
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const all = async (tx: StoreTx, plan: SearchPlan): Promise<Resource[]> => (await versions(tx, plan)).map((v) => v.resource!);

/**
 * Who looks at the assays when `org`'s episode is derived: the organisation, as a clinician of it
 * sees the record (own data and consent-shared data, by the access policy). Not the writer's own
 * token: the episode is re-derived by whichever write comes along (an ART order from a token
 * scoped to MedicationRequest, or another organisation's assay), and an assay hidden from that
 * token would count as no assay, letting a "positive" after A1+ alone stand. For a clinician of
 * `org` it is exactly the set the conclusion rule counted for them.
 */
const organisationView = (org: string): Principal => ({ sub: `rule:hiv-care-linkage/${org}`, org, roles: ['clinician'] });

const first = (dates: (string | undefined)[]): string | undefined => dates.filter((d): d is string => !!d).map((d) => d.slice(0, 10)).sort()[0];

/** The client's HIV conclusions held by `org`, or by any organisation. */
const conclusionsOf = (tx: StoreTx, patient: string, org?: string): Promise<StoredVersion[]> =>
  versions(tx, held('Observation', patient, org, C.HIV_CONCLUSION.system!, C.HIV_CONCLUSION.code!));

/**
 * Re-derives the episode of (patient, org) from what org holds; writes it only when it changed.
 * `heldConclusions`: the client's conclusions (of every organisation) when the caller has them already.
 */
export async function refreshEpisode(tx: StoreTx, patient: string, org: string, heldConclusions?: readonly StoredVersion[]): Promise<void> {
  const own = heldConclusions ? heldConclusions.filter((v) => v.custodian === org) : await conclusionsOf(tx, patient, org);
  const conclusions = own.map((v) => v.resource as Observation);
  const positives = conclusions.filter((o) => !VOID.has(o.status) && hasAny(o.valueCodeableConcept, C.CONCLUSION_CODINGS.positive));
  const diagnosed: Observation[] = [];
  const viewer = organisationView(org);
  for (const o of positives) if (await strategySupports(tx, o, viewer)) diagnosed.push(o);
  const diagnosisDate = first(diagnosed.map((o) => o.effectiveDateTime ?? o.effectivePeriod?.start));
  const id = episodeId(patient, org);
  const existing = await tx.read('EpisodeOfCare', id);
  if (!diagnosisDate) {
    // The positive conclusion was corrected: the episode goes with it.
    if (existing && !existing.deleted) await tx.remove('EpisodeOfCare', id, { custodian: org, patient, method: 'DELETE' });
    return;
  }
  const arts: MedicationRequest[] = [];
  for (const art of C.ART_CODINGS) arts.push(...((await all(tx, held('MedicationRequest', patient, org, art.system!, art.code!))) as MedicationRequest[]));
  const artStartDate = first(arts.filter((m) => !VOID.has(m.status)).map((m) => m.authoredOn));
  // Written by the server, so no write rule labels it: the HIV label has to be put on here, or a
  // consent that withholds HIV data would still show the diagnosis and ART dates (security review).
  const episode = withSensitivityLabels(hivCareEpisode({ patient, org, diagnosisDate, artStartDate }));
  if (existing?.resource && !existing.deleted && same(existing, episode)) return;
  await tx.put(episode, { custodian: org, patient, method: existing ? 'PUT' : 'POST' });
}

/**
 * Whether the assays behind a positive conclusion support it (HIV.B7.DT.08: positive only after
 * A1+, A2+, A3+): a "positive" after a single reactive A1 puts nobody on the ART waitlist. With no
 * assay visible, the conclusion stands (a diagnosis made elsewhere).
 */
async function strategySupports(tx: StoreTx, o: Observation, viewer: Principal): Promise<boolean> {
  const assays = await assaysBehind(tx, o, viewer);
  const at = o.effectiveDateTime ?? o.effectivePeriod?.start ?? '';
  return conclusionSupport('positive', assays, at.slice(0, 10)).supported;
}

function same(v: StoredVersion, next: Resource): boolean {
  const { meta, ...current } = v.resource as Resource;
  const { meta: nextMeta, ...wanted } = next;
  // An episode stored before it was labelled is rewritten with its label.
  return JSON.stringify(current) === JSON.stringify(wanted) && JSON.stringify(meta?.security ?? []) === JSON.stringify(nextMeta?.security ?? []);
}

/** Organisations holding one of the conclusions that cites the assay `id` (derivedFrom, hasMember). */
function citing(conclusions: readonly StoredVersion[], id: string): Set<string> {
  return new Set(conclusions.filter((v) => v.custodian && memberIds(v.resource as Observation).includes(id)).map((v) => v.custodian!));
}

/**
 * After an HIV conclusion or ART prescription is written, refresh the writer's episode for the
 * client; after an assay is written, the episodes of the organisations whose conclusions cite it.
 */
export const linkageRule: WriteRule = {
  name: 'hiv-care-linkage',
  types: ['Observation', 'MedicationRequest'],
  after: async (_ctx, tx, event, version) => {
    const patient = version.patient ?? event.previous?.patient;
    if (!patient) return;
    const orgs = new Set<string>();
    if (touchesLinkage(event.resource) || touchesLinkage(event.previous?.resource)) {
      const org = version.custodian ?? event.previous?.custodian;
      if (org) orgs.add(org);
    }
    // An assay: the client's conclusions are read once, for finding the organisations and for their episodes.
    const conclusions = isAssay(event.resource) || isAssay(event.previous?.resource) ? await conclusionsOf(tx, patient) : undefined;
    if (conclusions) for (const org of citing(conclusions, event.id)) orgs.add(org);
    for (const org of orgs) await refreshEpisode(tx, patient, org, conclusions);
  },
};
