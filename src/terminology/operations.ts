/**
 * The terminology operations over the CodeSystems and ValueSets stored on this server:
 * CodeSystem/$validate-code, ValueSet/$validate-code and ValueSet/$expand, at type level (by `url`)
 * and instance level. Any role that may read the type may call them.
 */
import { randomUUID } from 'node:crypto';
import type { CodeSystem, CodeableConcept, Coding, ParametersParameter, ValueSet } from '@medplum/fhirtypes';
import { type FhirContext, type FhirRequest, type FhirResponse, principalOf } from '../fhir/context';
import { badRequest, notFound } from '../fhir/outcome';
import type { Operation, OperationRegistry, OperationTarget } from '../fhir/operations';
import { outputParameters } from '../fhir/parameters';
import { assertAllowed } from '../policy/access';
import { CODESYSTEM_VALIDATE_CODE, VALUESET_EXPAND, VALUESET_VALIDATE_CODE, inputsOf } from './definitions';
import { expandCompose } from './expand';
import { type InputValue, paramExpression, readTerminologyInput } from './input';
import { findById, findByUrl, storeResolver } from './store-lookup';
import { type CodeCheck, checkAny, checkInCodeSystem, checkInValueSet } from './validate-code';

type Inputs = Map<string, InputValue>;
type KnowledgeType = 'CodeSystem' | 'ValueSet';

const text = (inputs: Inputs, name: string): string | undefined => inputs.get(name) as string | undefined;

/** The resource the operation is about: the instance, or the one named by `url` (404 when absent). */
async function target<T extends CodeSystem | ValueSet>(ctx: FhirContext, type: KnowledgeType, at: OperationTarget, inputs: Inputs, versionParam: string): Promise<T> {
  const url = text(inputs, 'url');
  if (at.id) {
    if (url !== undefined) throw badRequest('Give url only at type level; the instance already names the resource', paramExpression('url'));
    const found = await findById<T>(ctx.store, type, at.id);
    if (!found) throw notFound(`${type}/${at.id} not found`);
    return found;
  }
  if (url === undefined) throw badRequest(`Give the url of the ${type}, or call the operation on an instance`, paramExpression('url'));
  const version = text(inputs, versionParam);
  const found = await findByUrl<T>(ctx.store, type, version ? `${url}|${version}` : url);
  if (!found) throw notFound(`${type} ${url}${version ? `|${version}` : ''} is not known to this server`);
  return found;
}

/** The codings to check: exactly one of code (+system/display), coding or codeableConcept. */
function codingsOf(inputs: Inputs, defaultSystem: string | undefined): Coding[] {
  const given = ['code', 'coding', 'codeableConcept'].filter((n) => inputs.has(n));
  if (given.length !== 1) throw badRequest('Give exactly one of code, coding or codeableConcept', paramExpression(given[1] ?? 'code'));
  if (inputs.has('coding')) return [inputs.get('coding') as Coding];
  if (inputs.has('codeableConcept')) {
    const codings = (inputs.get('codeableConcept') as CodeableConcept).coding ?? [];
    if (!codings.length) throw badRequest('The codeableConcept has no coding', paramExpression('codeableConcept'));
    return codings;
  }
  const system = text(inputs, 'system') ?? defaultSystem;
  // R4: "If a code is provided, a system or a context must be provided" (ValueSet/$validate-code).
  if (system === undefined) throw badRequest('A code needs its system', paramExpression('system'));
  return [{ system, code: text(inputs, 'code'), display: text(inputs, 'display') }];
}

function checkResult(check: CodeCheck): FhirResponse {
  const parameter: ParametersParameter[] = [{ name: 'result', valueBoolean: check.result }];
  if (check.message) parameter.push({ name: 'message', valueString: check.message });
  if (check.display) parameter.push({ name: 'display', valueString: check.display });
  return { status: 200, body: outputParameters(parameter) };
}

function allowedRead(req: FhirRequest, type: KnowledgeType): void {
  assertAllowed(principalOf(req), type, 'r');
}

const codeSystemValidate: Operation = {
  definition: CODESYSTEM_VALIDATE_CODE,
  async handler(ctx, req, at) {
    allowedRead(req, 'CodeSystem');
    const inputs = readTerminologyInput(req, inputsOf(CODESYSTEM_VALIDATE_CODE));
    const cs = await target<CodeSystem>(ctx, 'CodeSystem', at, inputs, 'version');
    return checkResult(await checkAny(codingsOf(inputs, cs.url), (c) => checkInCodeSystem(cs, c)));
  },
};

const valueSetValidate: Operation = {
  definition: VALUESET_VALIDATE_CODE,
  async handler(ctx, req, at) {
    allowedRead(req, 'ValueSet');
    const inputs = readTerminologyInput(req, inputsOf(VALUESET_VALIDATE_CODE));
    const vs = await target<ValueSet>(ctx, 'ValueSet', at, inputs, 'valueSetVersion');
    const resolver = storeResolver(ctx.store);
    return checkResult(await checkAny(codingsOf(inputs, undefined), (c) => checkInValueSet(vs, c, resolver)));
  },
};

const expand: Operation = {
  definition: VALUESET_EXPAND,
  async handler(ctx, req, at) {
    allowedRead(req, 'ValueSet');
    const inputs = readTerminologyInput(req, inputsOf(VALUESET_EXPAND));
    const vs = await target<ValueSet>(ctx, 'ValueSet', at, inputs, 'valueSetVersion');
    const filter = text(inputs, 'filter')?.toLowerCase();
    const offset = (inputs.get('offset') as number | undefined) ?? 0;
    const count = inputs.get('count') as number | undefined;
    const all = await expandCompose(vs, storeResolver(ctx.store));
    const matching = filter ? all.filter((c) => c.code.toLowerCase().includes(filter) || c.display?.toLowerCase().includes(filter)) : all;
    const page = matching.slice(offset, count === undefined ? undefined : offset + count);
    const used: ParametersParameter[] = [
      ...(filter !== undefined ? [{ name: 'filter', valueString: text(inputs, 'filter') }] : []),
      ...(count !== undefined ? [{ name: 'count', valueInteger: count }] : []),
      { name: 'offset', valueInteger: offset },
    ];
    const { compose: _compose, expansion: _expansion, meta: _meta, text: _text, ...head } = vs;
    const body: ValueSet = {
      ...head,
      expansion: {
        identifier: `urn:uuid:${randomUUID()}`,
        timestamp: new Date().toISOString(),
        total: matching.length,
        offset,
        parameter: used,
        ...(page.length ? { contains: page.map((c) => ({ system: c.system, code: c.code, ...(c.display ? { display: c.display } : {}), ...(c.version ? { version: c.version } : {}) })) } : {}),
      },
    };
    return { status: 200, body };
  },
};

/** Registers $validate-code (CodeSystem, ValueSet) and ValueSet/$expand. */
export function registerTerminologyOperations(ops: OperationRegistry): OperationRegistry {
  return ops.register(codeSystemValidate).register(valueSetValidate).register(expand);
}
