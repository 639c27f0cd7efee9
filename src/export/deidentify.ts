/**
 * De-identification of one resource for the `reporting` role's exports. The rules, in the order a
 * reader checks them:
 * - client codes and every other identifier go; a Patient carries one per-export token instead;
 * - resource ids and references become per-export keyed hashes (links inside one export hold,
 *   nothing links to the source or to another export), except sites and knowledge;
 * - narrative and free text go (text, note, comment, description, display, names of people, string
 *   answers and values, attachments, contained resources, extensions but the key-population code),
 *   and so does every element whose FHIR type is free text or identifying (REMOVED_TYPES), by type;
 * - dates are shifted per client or cut to the month (./dates.ts); a birth date keeps its year only;
 * - small sites are generalised (./sites.ts).
 * Rules follow the safe-harbour idea of removing direct identifiers and generalising quasi-identifiers
 * (see docs/export.md); they are deliberately an allow-nothing-free-text walk, not a per-type list.
 */
import { createHmac } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { StoredVersion } from '../store/port';
import { KEY_POPULATION_EXTENSION } from '../privacy/operations';
import { clientShiftDays, dateRule, isFhirDate } from './dates';
import type { DateHandling } from './job';
import { SITE_TYPES, siteRef } from './sites';
import { elementType } from '../fhir/validation/element-types';

/** Identifier.system of the per-export client token. */
export const EXPORT_TOKEN_SYSTEM = 'https://linkcare.example.org/fhir/sid/export-client-token';

/** Types a de-identified export may contain: the release set. Consent, AuditEvent, free-text-bearing types and staff never. */
export const RELEASE_TYPES: readonly string[] = [
  'Patient', 'Encounter', 'EpisodeOfCare', 'Observation', 'Condition', 'Procedure', 'DiagnosticReport', 'Specimen',
  'MedicationRequest', 'MedicationDispense', 'MedicationStatement', 'Immunization', 'AllergyIntolerance', 'CarePlan',
  'ServiceRequest', 'Task', 'SupplyDelivery', 'Flag', 'MeasureReport', 'Organization', 'Location', 'HealthcareService',
  'Medication',
];

/** Types whose ids are not about anyone and stay as they are (shared knowledge). */
const KEPT_ID_TYPES: ReadonlySet<string> = new Set(['Medication', 'Questionnaire', 'Measure', 'CodeSystem', 'ValueSet']);

/** Elements removed wherever they occur: free text, direct identifiers, and what may hide either. */
const REMOVED: ReadonlySet<string> = new Set([
  'text', 'note', 'comment', 'comments', 'description', 'display', 'identifier', 'meta', 'contained', 'implicitRules',
  'modifierExtension', 'telecom', 'contact', 'photo', 'title', 'summary', 'conclusion', 'patientInstruction', 'payload',
  'presentedForm', 'content', 'attachment', 'alias', 'position', 'url', 'valueString', 'valueMarkdown',
  'valueAttachment', 'valueBase64Binary', 'valueUri', 'valueUrl', 'authorString', 'sourceString', 'reasonString',
]);

/** Kept only on site directory entries (a clinic's name is public; a person's is not). */
const DIRECTORY_ONLY: ReadonlySet<string> = new Set(['name', 'address']);

/** Address parts that stay on a site: nothing finer than a district. */
const ADDRESS_PARTS = ['use', 'type', 'city', 'district', 'state', 'country'];

/**
 * Element types that are free text or identify someone, dropped wherever they occur outside site
 * directory entries, whatever the element is called (fhir/validation/element-types.ts): `Condition.onsetString`,
 * `Task.input.valueHumanName`, `Specimen.accessionIdentifier`… (string covers markdown too).
 */
const REMOVED_TYPES: ReadonlySet<string> = new Set([
  'string', 'HumanName', 'ContactPoint', 'Address', 'Identifier', 'Attachment', 'Annotation', 'Signature', 'base64Binary',
  'Narrative', 'xhtml',
]);

/** Token-like types that are dropped as the value of a choice (`Task.input.valueCode` can hold any word). */
const REMOVED_VALUE_TYPES: ReadonlySet<string> = new Set(['code', 'id', 'oid', 'uuid', 'uri', 'url', 'canonical']);

/** Strings that stay: units of quantities and code system versions say nothing about anyone. */
function keptString(parent: string, prop: string): boolean {
  return prop === 'unit' || (parent === 'Coding' && prop === 'version');
}

/** True when the element `prop` (of FHIR type `type`) of a `parent` element must go because of that type. */
function removedByType(parent: string, prop: string, type: string): boolean {
  if (REMOVED_TYPES.has(type)) return !(type === 'string' && keptString(parent, prop));
  return prop.startsWith('value') && REMOVED_VALUE_TYPES.has(type);
}

/** Strings under these keys are codes or ids, never dates, even when they look like one. */
const NOT_DATES: ReadonlySet<string> = new Set(['id', 'code', 'system', 'version', 'unit', 'reference', 'value']);

/** Instants cannot carry a month; in month mode they go. */
const INSTANTS: ReadonlySet<string> = new Set(['issued', 'recorded']);

/** What the transform needs besides the resource. */
export interface DeidentifyContext {
  key: Buffer;
  dates: DateHandling;
  /** Whether a site (`Organization/id` …) is large enough to be named. */
  isLargeSite(ref: string): boolean;
  /**
   * Keyed hashes already computed for this export (pseudonymous ids, date shifts). A page repeats
   * the same clients and references, and each hash costs an HMAC; the caller bounds its life (a page).
   */
  memo?: Map<string, string | number>;
}

/** `compute()` once per memo key. */
function remembered<T extends string | number>(c: DeidentifyContext, key: string, compute: () => T): T {
  const known = c.memo?.get(key) as T | undefined;
  if (known !== undefined) return known;
  const value = compute();
  c.memo?.set(key, value);
  return value;
}

/** pseudoId through the context's memo. */
function pseudoIdIn(c: DeidentifyContext, type: string, id: string): string {
  return remembered(c, `id|${type}/${id}`, () => pseudoId(c.key, type, id));
}

/** A generalised site reference. */
const SMALL_SITE = { display: 'small site (generalised)' };

/** The per-export pseudonymous id of a resource. */
export function pseudoId(key: Buffer, type: string, id: string): string {
  return createHmac('sha256', key).update(`id|${type}/${id}`).digest('hex').slice(0, 32);
}

/** The per-export token that stands for a client (in place of the client code). */
export function clientToken(key: Buffer, patientId: string): string {
  return createHmac('sha256', key).update(`client|${patientId}`).digest('base64url').slice(0, 16);
}

function mapReference(ref: string, c: DeidentifyContext): string | typeof SMALL_SITE | undefined {
  const site = siteRef(ref);
  if (site) return c.isLargeSite(site) ? site : SMALL_SITE;
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/.*)?$/.exec(ref);
  // Absolute URLs, urn:uuid and '#contained' links lead nowhere in the export: dropped.
  if (!m) return undefined;
  const [, type, id] = m as unknown as [string, string, string];
  return KEPT_ID_TYPES.has(type) ? `${type}/${id}` : `${type}/${pseudoIdIn(c, type, id)}`;
}

function keyPopulationOnly(extensions: unknown): unknown[] | undefined {
  if (!Array.isArray(extensions)) return undefined;
  const kept = extensions
    .filter((e: { url?: string; valueCoding?: unknown }) => e?.url === KEY_POPULATION_EXTENSION && e.valueCoding)
    .map((e: { url: string; valueCoding: { system?: string; code?: string } }) => ({ url: e.url, valueCoding: { system: e.valueCoding.system, code: e.valueCoding.code } }));
  return kept.length ? kept : undefined;
}

/**
 * Walks one JSON value, applying the rules; undefined means "leave the element out". `def` is the
 * value's FHIR type (`Condition`, `Task_Input`, `Reference`…) when the schema knows it.
 */
function scrub(value: unknown, key: string, directory: boolean, date: (v: string) => string, c: DeidentifyContext, def?: string): unknown {
  if (Array.isArray(value)) {
    const out = value.map((v) => scrub(v, key, directory, date, c, def)).filter((v) => v !== undefined);
    return out.length ? out : undefined;
  }
  if (typeof value === 'string') return !NOT_DATES.has(key) && isFhirDate(value) ? date(value) : value;
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  if (typeof obj.reference === 'string') {
    const mapped = mapReference(obj.reference, c);
    if (mapped === SMALL_SITE) return { ...SMALL_SITE };
    const rest = scrubObject({ ...obj, reference: undefined }, directory, date, c, def);
    const out = { ...(rest as object), ...(mapped ? { reference: mapped } : {}) };
    return Object.keys(out).length ? out : undefined;
  }
  return scrubObject(obj, directory, date, c, def);
}

function scrubObject(obj: Record<string, unknown>, directory: boolean, date: (v: string) => string, c: DeidentifyContext, def?: string): unknown {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || REMOVED.has(k)) continue;
    if (DIRECTORY_ONLY.has(k) && !directory) continue;
    const childDef = def ? elementType(def, k) : undefined;
    // Site directory entries are public (their names and coarse addresses are the point of them).
    if (!directory && def && childDef && removedByType(def, k, childDef)) continue;
    if (c.dates === 'month' && INSTANTS.has(k)) continue;
    let x: unknown;
    if (k === 'extension') x = keyPopulationOnly(v);
    else if (k === 'address') x = scrub(coarseAddress(v), k, directory, date, c, childDef);
    else x = scrub(v, k, directory, date, c, childDef);
    if (x !== undefined) out[k] = x;
  }
  return Object.keys(out).length ? out : undefined;
}

function coarseAddress(v: unknown): unknown {
  const list = Array.isArray(v) ? v : [v];
  return list.map((a: Record<string, unknown>) => Object.fromEntries(ADDRESS_PARTS.filter((p) => a?.[p] !== undefined).map((p) => [p, a[p]])));
}

/** A Patient keeps only what reporting needs: token, gender, birth year, status, site and key population. */
function patientBody(p: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const k of ['gender', 'active', 'deceasedBoolean', 'deceasedDateTime', 'managingOrganization', 'extension']) {
    if (p[k] !== undefined) kept[k] = p[k];
  }
  if (typeof p.birthDate === 'string') kept.birthDate = p.birthDate.slice(0, 4);
  return kept;
}

/**
 * The de-identified form of a stored resource, or undefined when it must not be exported at all
 * (a type outside the release set, or the directory entry of a small site).
 */
export function deidentify(v: StoredVersion, c: DeidentifyContext): Resource | undefined {
  if (!v.resource || !RELEASE_TYPES.includes(v.type)) return undefined;
  const directory = SITE_TYPES.has(v.type);
  if (directory && !c.isLargeSite(`${v.type}/${v.id}`)) return undefined;
  const client = v.type === 'Patient' ? v.id : v.patient;
  const days = c.dates === 'shift' && client ? remembered(c, `shift|${client}`, () => clientShiftDays(c.key, client)) : undefined;
  const date = dateRule(c.dates, c.key, client, days);
  const source = v.type === 'Patient' ? patientBody(v.resource as unknown as Record<string, unknown>) : (v.resource as unknown as Record<string, unknown>);
  const { resourceType: _type, id: _id, ...rest } = source;
  // A year stays a year under both rules, so the birth year survives as cut above.
  const body = (scrubObject(rest, directory, date, c, v.type) ?? {}) as Record<string, unknown>;
  const id = directory || KEPT_ID_TYPES.has(v.type) ? v.id : pseudoIdIn(c, v.type, v.id);
  const out: Record<string, unknown> = { resourceType: v.type, id, ...body };
  if (v.type === 'Patient') out.identifier = [{ system: EXPORT_TOKEN_SYSTEM, value: clientToken(c.key, v.id) }];
  return out as unknown as Resource;
}
