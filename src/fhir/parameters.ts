/**
 * Operation inputs: a `Parameters` resource (POST) or the query string (GET) flattened to a plain
 * object, then checked against the operation's JSON Schema in schemas/operations/
 * (http://hl7.org/fhir/R4/operations.html#request).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { FhirRequest } from './context';
import { badRequest, invalid, issue } from './outcome';
import { projectRoot } from '../project-root';

type Flat = Record<string, unknown>;

const SCHEMA_DIR = join(projectRoot(), 'schemas/operations');
const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new Map<string, ValidateFunction>();

/** The compiled schema `schemas/operations/<name>.schema.json`. */
function schemaFor(name: string): ValidateFunction {
  let fn = compiled.get(name);
  if (!fn) {
    fn = ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, `${name}.schema.json`), 'utf8')) as object);
    compiled.set(name, fn);
  }
  return fn;
}

/** The value of one parameter: its value[x], its resource, or its parts flattened. */
function valueOf(p: ParametersParameter): unknown {
  if (p.part) return flatten(p.part);
  if (p.resource) return p.resource;
  const key = Object.keys(p).find((k) => k.startsWith('value'));
  return key ? (p as unknown as Record<string, unknown>)[key] : undefined;
}

/** Parameters → { name: value } with repeated names gathered into arrays. */
function flatten(params: ParametersParameter[]): Flat {
  const out: Flat = {};
  for (const p of params) {
    const v = valueOf(p);
    if (p.name in out) out[p.name] = ([] as unknown[]).concat(out[p.name], [v]);
    else out[p.name] = v;
  }
  return out;
}

function fromBody(body: unknown): Flat {
  if (body === undefined) return {};
  const b = body as Parameters;
  if (b?.resourceType !== 'Parameters') throw badRequest('Operation input must be a Parameters resource', 'Parameters');
  if (b.parameter !== undefined && !Array.isArray(b.parameter)) throw badRequest('Parameters.parameter must be an array', 'Parameters.parameter');
  for (const [i, p] of (b.parameter ?? []).entries()) {
    if (typeof p?.name !== 'string') throw badRequest('Every parameter needs a name', `Parameters.parameter[${i}].name`);
  }
  return flatten(b.parameter ?? []);
}

function fromQuery(req: FhirRequest): Flat {
  const out: Flat = {};
  for (const [k, v] of req.query) out[k] = k in out ? ([] as unknown[]).concat(out[k], [v]) : v;
  return out;
}

/** Reads and validates an operation's input; a schema error names the parameter (400). */
export function readInput<T>(req: FhirRequest, schemaName: string): T {
  const input = req.method === 'POST' ? fromBody(req.body) : fromQuery(req);
  const validate = schemaFor(schemaName);
  if (!validate(input)) {
    const issues = (validate.errors ?? []).map((e) => {
      const name = e.instancePath.split('/')[1] ?? (e.params as { missingProperty?: string; additionalProperty?: string }).missingProperty ?? (e.params as { additionalProperty?: string }).additionalProperty ?? '';
      const what = e.keyword === 'additionalProperties' ? `Unknown parameter "${name}"` : `Parameter "${name}" ${e.message ?? 'is invalid'}`;
      return issue(e.keyword === 'required' ? 'required' : 'invalid', what, `Parameters.parameter.where(name = '${name}')`);
    });
    throw invalid(issues, 400);
  }
  return input as T;
}

/** Builds an output Parameters resource from name/value[x] pairs. */
export function outputParameters(params: ParametersParameter[]): Parameters {
  return { resourceType: 'Parameters', parameter: params };
}
