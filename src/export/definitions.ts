/**
 * OperationDefinitions of the three kick-off endpoints, based on the Bulk Data Access 2.0
 * definitions (https://hl7.org/fhir/uv/bulkdata/OperationDefinition-export.html and its
 * patient-export / group-export siblings) with linkcare's `dateHandling` added. `affectsState` is
 * false as in the IG: the kick-off only schedules a read, so the router lets GET through.
 */
import type { OperationDefinitionParameter } from '@medplum/fhirtypes';
import type { Operation } from '../fhir/operations';

const CANONICAL = 'https://linkcare.example.org/fhir/OperationDefinition';
const IG = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition';

const inp = (name: string, type: string, max: string, documentation: string): OperationDefinitionParameter => ({ name, use: 'in', min: 0, max, type, documentation });

const PARAMETERS: OperationDefinitionParameter[] = [
  inp('_outputFormat', 'string', '1', 'application/fhir+ndjson (also application/ndjson, ndjson); the only format'),
  inp('_since', 'instant', '1', 'Only resources changed after this instant'),
  inp('_type', 'string', '*', 'Comma-separated resource types; default: every type the caller may export'),
  inp('dateHandling', 'code', '1', 'De-identified (reporting) exports only: shift (per-client offset, default) | month'),
];

function definition(id: string, base: string, level: 'system' | 'type' | 'instance', description: string): Operation['definition'] {
  return {
    resourceType: 'OperationDefinition',
    id,
    url: `${CANONICAL}/${id}`,
    base: `${IG}/${base}`,
    name: id.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase()),
    status: 'active',
    kind: 'operation',
    code: 'export',
    system: level === 'system',
    type: level === 'type',
    instance: level === 'instance',
    ...(level === 'type' ? { resource: ['Patient'] } : level === 'instance' ? { resource: ['Group'] } : {}),
    affectsState: false,
    description,
    parameter: PARAMETERS,
  };
}

/** [base]/$export: everything the caller may export. */
export const SYSTEM_EXPORT = definition('export', 'export', 'system', 'Asynchronous bulk export of every resource the caller may export, as NDJSON files (Prefer: respond-async).');
/** [base]/Patient/$export: the compartments of every client the caller may see. */
export const PATIENT_EXPORT = definition('patient-export', 'patient-export', 'type', 'Asynchronous bulk export of the clients the caller may see and their compartments.');
/** [base]/Group/[id]/$export: the compartments of the group's member clients. */
export const GROUP_EXPORT = definition('group-export', 'group-export', 'instance', 'Asynchronous bulk export of a group\'s member clients and their compartments.');
