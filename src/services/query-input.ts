/**
 * GET invocation of the decision operations: the query string becomes a Parameters resource,
 * typed by the OperationDefinition, so GET and POST go through the same schema. FHIR allows GET
 * only when every parameter is primitive (http://hl7.org/fhir/R4/operations.html#request);
 * parameters with parts or complex types are refused with a pointer to POST.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { FhirRequest } from '../fhir/context';
import type { Operation } from '../fhir/operations';
import { badRequest } from '../fhir/outcome';
import { paramPath } from './decisions/result';

const VALUE_KEY: Record<string, string> = {
  boolean: 'valueBoolean',
  integer: 'valueInteger',
  date: 'valueDate',
  dateTime: 'valueDateTime',
  code: 'valueCode',
  string: 'valueString',
};

/** A query value as the definition's type; a value that does not parse is kept as text so the schema names it. */
function typed(type: string, text: string): unknown {
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  if (type === 'integer' && /^-?\d{1,15}$/.test(text)) return Number(text);
  return text;
}

/** The query string of a GET as a Parameters resource (http://hl7.org/fhir/R4/operations.html#request). */
export function parametersFromQuery(req: FhirRequest, def: Operation['definition']): Parameters {
  const inputs = new Map((def.parameter ?? []).filter((p) => p.use === 'in').map((p) => [p.name!, p]));
  const parameter: ParametersParameter[] = [];
  for (const [name, text] of req.query) {
    // _format chooses the response format; it is not an input of the operation.
    if (name === '_format') continue;
    const p = inputs.get(name);
    if (p && (p.part || !VALUE_KEY[p.type ?? ''])) {
      throw badRequest(`Parameter "${name}" is not a primitive: call $${def.code} by POST with a Parameters body`, paramPath(name));
    }
    // An unknown name goes through as text so that the schema reports it by name.
    parameter.push({ name, [p ? VALUE_KEY[p.type!]! : 'valueString']: typed(p?.type ?? 'string', text) } as ParametersParameter);
  }
  return { resourceType: 'Parameters', parameter };
}

/** The request as a POST of its Parameters, whichever way it came (http://hl7.org/fhir/R4/operations.html). */
export function asPost(req: FhirRequest, def: Operation['definition']): FhirRequest {
  if (req.method === 'POST') return req;
  return { ...req, method: 'POST', body: parametersFromQuery(req, def) };
}
