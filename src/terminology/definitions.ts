/**
 * OperationDefinitions of the terminology operations, derived from the standard ones they
 * implement a subset of (`base`). Type and instance level; they change nothing, so GET works.
 */
import type { OperationDefinitionParameter } from '@medplum/fhirtypes';
import type { Operation } from '../fhir/operations';
import type { InputSpec } from './input';

type Param = OperationDefinitionParameter;

const CANONICAL = 'https://linkcare.example.org/fhir/OperationDefinition';

const inp = (name: string, type: string, documentation: string): Param => ({ name, use: 'in', min: 0, max: '1', type, documentation });
const out = (name: string, type: string, min: number, documentation: string): Param => ({ name, use: 'out', min, max: '1', type, documentation });

/** The inputs an OperationDefinition declares, as the reader's table. */
export function inputsOf(def: Operation['definition']): InputSpec[] {
  return (def.parameter ?? []).filter((p) => p.use === 'in').map((p) => ({ name: p.name!, type: p.type as InputSpec['type'] }));
}

function definition(resource: 'CodeSystem' | 'ValueSet', code: string, base: string, description: string, parameter: Param[]): Operation['definition'] {
  const id = `${resource}-${code}`;
  return {
    resourceType: 'OperationDefinition',
    id,
    url: `${CANONICAL}/${id}`,
    base,
    name: `${resource}${code.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase())}`,
    status: 'active',
    kind: 'operation',
    code,
    resource: [resource],
    system: false,
    type: true,
    instance: true,
    affectsState: false,
    description,
    parameter,
  };
}

const RESULT = [
  out('result', 'boolean', 1, 'True if the code is valid (and the display, when given, is right)'),
  out('message', 'string', 0, 'Why the code is not valid, or a warning'),
  out('display', 'string', 0, 'The display of the code, when it was found'),
];

/** CodeSystem/$validate-code (http://hl7.org/fhir/R4/codesystem-operation-validate-code.html). */
export const CODESYSTEM_VALIDATE_CODE = definition(
  'CodeSystem',
  'validate-code',
  'http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code',
  'Whether a code is in one of the CodeSystems stored on this server. Give url (type level) or call it on an instance; then code (+display), coding or codeableConcept.',
  [
    inp('url', 'uri', 'Canonical URL of the CodeSystem (type level only)'),
    inp('version', 'string', 'Version of the CodeSystem'),
    inp('code', 'code', 'The code to check'),
    inp('display', 'string', 'The display to check with the code'),
    inp('coding', 'Coding', 'A coding to check (POST)'),
    inp('codeableConcept', 'CodeableConcept', 'A concept: valid when any of its codings is (POST)'),
    ...RESULT,
  ],
);

/** ValueSet/$validate-code (http://hl7.org/fhir/R4/valueset-operation-validate-code.html). */
export const VALUESET_VALIDATE_CODE = definition(
  'ValueSet',
  'validate-code',
  'http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code',
  'Whether a code is in one of the ValueSets stored on this server. Give url (type level) or call it on an instance; then system + code (+display), coding or codeableConcept.',
  [
    inp('url', 'uri', 'Canonical URL of the ValueSet (type level only)'),
    inp('valueSetVersion', 'string', 'Version of the ValueSet'),
    inp('system', 'uri', 'The system of the code'),
    inp('code', 'code', 'The code to check (needs system)'),
    inp('display', 'string', 'The display to check with the code'),
    inp('coding', 'Coding', 'A coding to check (POST)'),
    inp('codeableConcept', 'CodeableConcept', 'A concept: valid when any of its codings is (POST)'),
    ...RESULT,
  ],
);

/** ValueSet/$expand (http://hl7.org/fhir/R4/valueset-operation-expand.html). */
export const VALUESET_EXPAND = definition(
  'ValueSet',
  'expand',
  'http://hl7.org/fhir/OperationDefinition/ValueSet-expand',
  'The codes of a ValueSet stored on this server (enumerated concepts, whole project code systems, included value sets); filter matches code or display text, count and offset page the result.',
  [
    inp('url', 'uri', 'Canonical URL of the ValueSet (type level only)'),
    inp('valueSetVersion', 'string', 'Version of the ValueSet'),
    inp('filter', 'string', 'Text the code or display must contain (case-insensitive)'),
    inp('count', 'integer', 'Page size (default all)'),
    inp('offset', 'integer', 'Codes to skip (default 0)'),
    out('return', 'ValueSet', 1, 'The ValueSet with its expansion'),
  ],
);
