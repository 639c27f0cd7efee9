/**
 * Inputs of the terminology operations: the query string (GET) or a Parameters body (POST), read
 * against a small table of the parameters each operation takes
 * (http://hl7.org/fhir/R4/operations.html#request). Unknown, repeated or mistyped parameters are a
 * 400 naming the parameter.
 */
import type { CodeableConcept, Coding, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { FhirRequest } from '../fhir/context';
import { badRequest } from '../fhir/outcome';

export type InputType = 'uri' | 'code' | 'string' | 'integer' | 'boolean' | 'Coding' | 'CodeableConcept';

/** One accepted input parameter. */
export interface InputSpec {
  name: string;
  type: InputType;
}

export type InputValue = string | number | boolean | Coding | CodeableConcept;

const VALUE_KEY: Record<InputType, string> = {
  uri: 'valueUri',
  code: 'valueCode',
  string: 'valueString',
  integer: 'valueInteger',
  boolean: 'valueBoolean',
  Coding: 'valueCoding',
  CodeableConcept: 'valueCodeableConcept',
};
// Text-like parameters may arrive as any primitive string type (clients differ: valueUri, valueCanonical, valueString).
const TEXT_KEYS = ['valueUri', 'valueCanonical', 'valueUrl', 'valueCode', 'valueString', 'valueId'];

/** FHIRPath of a parameter in the input, for issue expressions. */
export const paramExpression = (name: string): string => `Parameters.parameter.where(name = '${name}')`;

function fromQuery(name: string, type: InputType, text: string): InputValue {
  if (type === 'Coding' || type === 'CodeableConcept') throw badRequest(`Parameter "${name}" is a ${type}: use POST with a Parameters body`, paramExpression(name));
  if (type === 'integer') {
    if (!/^\d{1,9}$/.test(text)) throw badRequest(`Parameter "${name}" must be a whole number of 0 or more`, paramExpression(name));
    return Number(text);
  }
  if (type === 'boolean') {
    if (text !== 'true' && text !== 'false') throw badRequest(`Parameter "${name}" must be true or false`, paramExpression(name));
    return text === 'true';
  }
  if (text === '') throw badRequest(`Parameter "${name}" is empty`, paramExpression(name));
  return text;
}

function fromParameter(p: ParametersParameter, type: InputType): InputValue {
  const record = p as unknown as Record<string, unknown>;
  const keys = type === 'uri' || type === 'code' || type === 'string' ? TEXT_KEYS : [VALUE_KEY[type]];
  const key = keys.find((k) => record[k] !== undefined);
  const value = key ? record[key] : undefined;
  const ok =
    (type === 'integer' && Number.isInteger(value) && (value as number) >= 0) ||
    (type === 'boolean' && typeof value === 'boolean') ||
    ((type === 'Coding' || type === 'CodeableConcept') && typeof value === 'object' && value !== null) ||
    (keys === TEXT_KEYS && typeof value === 'string');
  if (!ok) throw badRequest(`Parameter "${p.name}" must be given as ${VALUE_KEY[type]}`, paramExpression(p.name!));
  return value as InputValue;
}

/** Reads the operation's inputs; a name given twice, unknown or of the wrong type is a 400. */
export function readTerminologyInput(req: FhirRequest, specs: readonly InputSpec[]): Map<string, InputValue> {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out = new Map<string, InputValue>();
  const put = (name: string, read: (spec: InputSpec) => InputValue): void => {
    const spec = byName.get(name);
    if (!spec) throw badRequest(`Unknown parameter "${name}"`, paramExpression(name));
    if (out.has(name)) throw badRequest(`Parameter "${name}" may be given only once`, paramExpression(name));
    out.set(name, read(spec));
  };
  if (req.method === 'POST') {
    const body = req.body as Parameters | undefined;
    if (body?.resourceType !== 'Parameters') throw badRequest('Operation input must be a Parameters resource', 'Parameters');
    for (const [i, p] of (body.parameter ?? []).entries()) {
      if (typeof p?.name !== 'string') throw badRequest('Every parameter needs a name', `Parameters.parameter[${i}].name`);
      put(p.name, (spec) => fromParameter(p, spec.type));
    }
  } else {
    for (const [name, text] of req.query) {
      // _format picks the response format; it is not an input of the operation.
      if (name !== '_format') put(name, (spec) => fromQuery(name, spec.type, text));
    }
  }
  return out;
}
