/**
 * Maps a FhirRequest to its interaction (http://hl7.org/fhir/R4/http.html) or operation
 * (http://hl7.org/fhir/R4/operations.html). Pure: no express.
 */
import type { FhirContext, FhirRequest, FhirResponse } from './context';
import { badRequest, notAllowed, notFound } from './outcome';
import { ID_PATTERN, isReadOnlyType, isSupportedType } from './resource-types';
import { history, read, vread } from './interactions/read';
import { compartmentSearch, search, systemSearch } from './interactions/search';
import { conditionalDelete, conditionalUpdate, create, patch, remove, update } from './interactions/rest';
import { isConformanceType, readConformance, searchConformance } from './interactions/conformance';
import { metadata } from './capability';
import { processBundle } from './bundle/process';
import type { OperationTarget } from './operations';

function checkType(type: string): void {
  if (!isSupportedType(type)) throw notFound(`Resource type "${type}" is not supported`);
}

function checkId(id: string): void {
  if (!ID_PATTERN.test(id)) throw notFound(`"${id}" is not a valid resource id`);
}

const READ = ['GET', 'HEAD'];

/** 405 naming the methods this URL does accept. */
function methodNotAllowed(req: FhirRequest, allow: string[], message = `${req.method} is not allowed on /${req.path.join('/')}`): never {
  throw notAllowed(message, allow);
}

/** Runs `$name` at the target; GET only for operations that change nothing. */
function operation(ctx: FhirContext, req: FhirRequest, segment: string, target: OperationTarget): Promise<FhirResponse> {
  const op = ctx.operations.find(segment.slice(1), target);
  if (!op) throw notFound(`Unknown operation ${segment}${target.type ? ` on ${target.type}` : ''}`);
  const get = req.method === 'GET' || req.method === 'HEAD';
  const allow = op.definition.affectsState ? ['POST'] : [...READ, 'POST'];
  if (!get && req.method !== 'POST') methodNotAllowed(req, allow);
  if (get && op.definition.affectsState) methodNotAllowed(req, allow, `${segment} changes data: use POST`);
  return op.handler(ctx, req, target);
}

/** Dispatches one request; throws OperationOutcomeError for every client error. */
export async function route(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const [a, b, c, d, ...rest] = req.path;
  const get = req.method === 'GET' || req.method === 'HEAD';
  if (rest.length) throw notFound(`No route for /${req.path.join('/')}`);

  if (a === undefined) {
    if (req.method === 'POST') return processBundle(ctx, req);
    if (get) return systemSearch(ctx, req);
    methodNotAllowed(req, [...READ, 'POST']);
  }
  if (a === 'metadata' && b === undefined) {
    if (get) return metadata(ctx, req);
    methodNotAllowed(req, READ);
  }
  if (a === '_history' && b === undefined) {
    if (get) return history(ctx, req);
    methodNotAllowed(req, READ);
  }
  // POST [base]/_search: a system search with form-encoded parameters, like GET [base]?…
  if (a === '_search' && b === undefined) {
    if (req.method === 'POST') return systemSearch(ctx, req);
    methodNotAllowed(req, ['POST']);
  }
  if (a.startsWith('$') && b === undefined) return operation(ctx, req, a, {});
  checkType(a);
  if (isConformanceType(a) && !b?.startsWith('$')) {
    if (!get || c !== undefined) methodNotAllowed(req, READ);
    return b === undefined ? searchConformance(ctx, req, a) : readConformance(ctx, req, a, b);
  }
  // Types the server alone writes allow reads only (write.ts refuses their writes with the same Allow).
  const writes = (...methods: string[]) => (isReadOnlyType(a) ? [] : methods);

  if (b === undefined) {
    switch (req.method) {
      case 'GET':
      case 'HEAD':
        return search(ctx, req, a);
      case 'POST':
        return create(ctx, req, a);
      case 'PUT':
        return conditionalUpdate(ctx, req, a);
      case 'DELETE':
        return conditionalDelete(ctx, req, a);
      default:
        // PATCH [type]?criteria (conditional patch) is not supported.
        methodNotAllowed(req, [...READ, ...writes('POST', 'PUT', 'DELETE')]);
    }
  }
  if (b === '_search' && c === undefined) {
    if (req.method === 'POST') return search(ctx, req, a);
    methodNotAllowed(req, ['POST']);
  }
  if (b === '_history' && c === undefined) {
    if (get) return history(ctx, req, a);
    methodNotAllowed(req, READ);
  }
  if (b.startsWith('$') && c === undefined) return operation(ctx, req, b, { type: a });
  checkId(b);

  if (c === undefined) {
    switch (req.method) {
      case 'GET':
      case 'HEAD':
        return read(ctx, req, a, b);
      case 'PUT':
        return update(ctx, req, a, b);
      case 'PATCH':
        return patch(ctx, req, a, b);
      case 'DELETE':
        return remove(ctx, req, a, b);
      default:
        methodNotAllowed(req, [...READ, ...writes('PUT', 'PATCH', 'DELETE')]);
    }
  }
  if (c === '_history') {
    if (!get) methodNotAllowed(req, READ);
    if (d === undefined) return history(ctx, req, a, b);
    return vread(ctx, req, a, b, d);
  }
  if (c.startsWith('$') && d === undefined) return operation(ctx, req, c, { type: a, id: b });
  if (a === 'Patient' && d === undefined) {
    if (get) return compartmentSearch(ctx, req, b, c);
    methodNotAllowed(req, READ);
  }
  throw badRequest(`No route for /${req.path.join('/')}`);
}
