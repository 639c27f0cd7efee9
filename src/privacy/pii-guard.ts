/**
 * Data-minimisation guard for the resources that describe people (Patient, RelatedPerson).
 *
 * The service is built so that a stolen or subpoenaed database cannot be turned into a list
 * of sex workers: people are known by a random client code, never by name, phone, address,
 * face, state-issued number or biometric. This module only reports what must not be stored;
 * the caller decides the status (normally 422) and must not echo the offending values either,
 * which is why no diagnostic here repeats one.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { issue } from '../fhir/outcome';

/** Options for piiIssues. */
export interface PiiGuardOptions {
  /** Accept `YYYY-MM` birth dates (some programmes need age in months for young clients). */
  allowBirthMonth: boolean;
}

type PersonType = 'Patient' | 'RelatedPerson';
type JsonObject = Record<string, unknown>;

const FORBIDDEN_ELEMENTS: Record<PersonType, ReadonlyArray<readonly [element: string, why: string]>> = {
  Patient: [
    ['name', 'Names are not stored: clients are known only by their client code'],
    ['telecom', 'Phone numbers and e-mail addresses are not stored: they identify and locate the client'],
    ['address', 'Addresses are not stored: they locate the client'],
    ['photo', 'Photos are not stored: a face identifies the client'],
    ['contact', "Contact persons are not stored: their details identify the client's circle"],
  ],
  RelatedPerson: [
    ['name', 'Names of related persons are not stored: they identify the client through their circle'],
    ['telecom', 'Phone numbers and e-mail addresses of related persons are not stored: they identify the client'],
    ['address', 'Addresses of related persons are not stored: they locate the client'],
    ['photo', 'Photos of related persons are not stored: a face identifies them and, through them, the client'],
  ],
};

const V2_IDENTIFIER_TYPE = 'http://terminology.hl7.org/CodeSystem/v2-0203';

// State-issued numbers: each one links the record to the person in other registries
// (police, immigration, insurers), which is exactly the linkage the service must not enable.
const STATE_ID_TYPES: ReadonlySet<string> = new Set(['NI', 'NN', 'PPN', 'SS', 'DL', 'NH', 'SB', 'CZ']);

// Matched as case-insensitive substrings of Extension.url. Biometrics cannot be revoked once
// leaked; the standard HL7 extensions listed carry a name, a place or an exact time of birth
// and would otherwise slip the element checks above.
const FORBIDDEN_EXTENSIONS: ReadonlyArray<readonly [fragment: string, why: string]> = [
  ['biometric', 'Biometric data is not stored: it cannot be changed once leaked'],
  ['fingerprint', 'Fingerprints are not stored: they cannot be changed once leaked'],
  ['mothersmaidenname', "Mother's maiden name is not stored: it is a name that identifies the client"],
  ['birthplace', 'Place of birth is not stored: it is an address that helps identify the client'],
  ['birthtime', 'Time of birth is not stored: birth dates are kept to the year (or month) only'],
];

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function present(obj: JsonObject, key: string): boolean {
  return obj[key] !== undefined && obj[key] !== null;
}

function isPersonType(t: unknown): t is PersonType {
  return t === 'Patient' || t === 'RelatedPerson';
}

function elementIssues(type: PersonType, res: JsonObject, path: string): OperationOutcomeIssue[] {
  const out: OperationOutcomeIssue[] = [];
  for (const [element, why] of FORBIDDEN_ELEMENTS[type]) {
    // A `_name` sibling would be malformed for a complex element, but extensions hung on it
    // could still carry the value, so either spelling counts as the element being present.
    if (present(res, element) || present(res, `_${element}`)) {
      out.push(issue('business-rule', why, `${path}.${element}`));
    }
  }
  return out;
}

function stateIdType(identifier: unknown): string | undefined {
  if (!isObject(identifier) || !isObject(identifier.type) || !Array.isArray(identifier.type.coding)) return undefined;
  for (const coding of identifier.type.coding) {
    if (!isObject(coding) || coding.system !== V2_IDENTIFIER_TYPE) continue;
    if (typeof coding.code === 'string' && STATE_ID_TYPES.has(coding.code)) return coding.code;
  }
  return undefined;
}

function identifierIssues(res: JsonObject, path: string): OperationOutcomeIssue[] {
  if (!Array.isArray(res.identifier)) return [];
  const out: OperationOutcomeIssue[] = [];
  res.identifier.forEach((identifier, i) => {
    const code = stateIdType(identifier);
    if (code !== undefined) {
      out.push(
        issue(
          'business-rule',
          `State-issued identifiers (type ${code}) are not stored: they link the client to other registries; ` +
            'use the client code instead',
          `${path}.identifier[${i}]`,
        ),
      );
    }
  });
  return out;
}

function birthDateIssue(res: JsonObject, path: string, opts: PiiGuardOptions): OperationOutcomeIssue | undefined {
  if (!present(res, 'birthDate')) return undefined;
  const value = res.birthDate;
  const yearOnly = typeof value === 'string' && /^\d{4}$/.test(value);
  const yearMonth = typeof value === 'string' && /^\d{4}-(0[1-9]|1[0-2])$/.test(value);
  if (yearOnly || (yearMonth && opts.allowBirthMonth)) return undefined;
  // Year of birth is enough for age-band reporting; a full date plus a clinic narrows a
  // person down to a handful of candidates.
  const rule = opts.allowBirthMonth
    ? 'Birth dates are stored as year and month at most (YYYY-MM)'
    : 'Birth dates are stored as year only (YYYY)';
  return issue('business-rule', `${rule}: a full birth date helps identify the client`, `${path}.birthDate`);
}

function forbiddenExtension(ext: unknown): string | undefined {
  if (!isObject(ext) || typeof ext.url !== 'string') return undefined;
  const url = ext.url.toLowerCase();
  return FORBIDDEN_EXTENSIONS.find(([fragment]) => url.includes(fragment))?.[1];
}

// FHIRPath addresses a primitive's extensions through the element name, without the `_`.
function fhirPathKey(key: string): string {
  return key.startsWith('_') ? key.slice(1) : key;
}

/** Walks every extension in the resource, wherever it hangs; contained resources are skipped. */
function extensionIssues(node: unknown, path: string, out: OperationOutcomeIssue[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => extensionIssues(item, `${path}[${i}]`, out));
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'contained') continue;
    const childPath = `${path}.${fhirPathKey(key)}`;
    if ((key === 'extension' || key === 'modifierExtension') && Array.isArray(value)) {
      value.forEach((ext, i) => {
        const why = forbiddenExtension(ext);
        // One issue per offending extension: its children are part of the same datum.
        if (why !== undefined) out.push(issue('business-rule', why, `${childPath}[${i}]`));
        else extensionIssues(ext, `${childPath}[${i}]`, out);
      });
    } else {
      extensionIssues(value, childPath, out);
    }
  }
}

function personIssues(type: PersonType, res: JsonObject, path: string, opts: PiiGuardOptions): OperationOutcomeIssue[] {
  const out = [...elementIssues(type, res, path), ...identifierIssues(res, path)];
  const birth = birthDateIssue(res, path, opts);
  if (birth) out.push(birth);
  extensionIssues(res, path, out);
  return out;
}

/**
 * Lists what a Patient or RelatedPerson (including ones contained in any resource) carries
 * that must not be stored; empty when it is clean or the resource describes no person.
 */
export function piiIssues(resource: Resource, opts: PiiGuardOptions): OperationOutcomeIssue[] {
  const res = resource as unknown as JsonObject;
  if (!isObject(res)) return [];
  const type = res.resourceType;
  const out = isPersonType(type) ? personIssues(type, res, type, opts) : [];
  // A contained Patient is as much a record of the person as a top-level one; without this
  // a client could smuggle a name in through e.g. Observation.contained.
  if (Array.isArray(res.contained) && typeof type === 'string') {
    res.contained.forEach((inner, i) => {
      if (isObject(inner) && isPersonType(inner.resourceType)) {
        out.push(...personIssues(inner.resourceType, inner, `${type}.contained[${i}]`, opts));
      }
    });
  }
  return out;
}
