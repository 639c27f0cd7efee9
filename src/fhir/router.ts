/**
 * Maps a FhirRequest to its interaction (http://hl7.org/fhir/R4/http.html). Pure: no express.
 */
import type { FhirContext, FhirRequest, FhirResponse } from './context';
import { badRequest, notAllowed, notFound } from './outcome';
import { ID_PATTERN, isSupportedType } from './resource-types';
import { history, read, vread } from './interactions/read';
import { compartmentSearch, patientEverything, search, systemSearch } from './interactions/search';
import { conditionalDelete, conditionalUpdate, create, patch, remove, update } from './interactions/rest';
import { capabilityStatement } from './capability';
import { processBundle } from './bundle/process';

function checkType(type: string): void {
  if (!isSupportedType(type)) throw notFound(`Resource type "${type}" is not supported`);
}

function checkId(id: string): void {
  if (!ID_PATTERN.test(id)) throw notFound(`"${id}" is not a valid resource id`);
}

function methodNotAllowed(req: FhirRequest): never {
  throw notAllowed(`${req.method} is not allowed on /${req.path.join('/')}`);
}

/** Dispatches one request; throws OperationOutcomeError for every client error. */
export async function route(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const [a, b, c, d, ...rest] = req.path;
  const get = req.method === 'GET' || req.method === 'HEAD';
  if (rest.length) throw notFound(`No route for /${req.path.join('/')}`);

  if (a === undefined) {
    if (req.method === 'POST') return processBundle(ctx, req);
    if (get) return systemSearch(ctx, req);
    throw methodNotAllowed(req);
  }
  if (a === 'metadata' && b === undefined) {
    if (get) return { status: 200, body: capabilityStatement(ctx) };
    throw methodNotAllowed(req);
  }
  if (a === '_history' && b === undefined) {
    if (get) return history(ctx, req);
    throw methodNotAllowed(req);
  }
  if (a.startsWith('$')) throw notFound(`Unknown operation ${a}`);
  checkType(a);

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
        throw methodNotAllowed(req);
    }
  }
  if (b === '_search' && c === undefined) {
    if (req.method === 'POST') return search(ctx, req, a);
    throw methodNotAllowed(req);
  }
  if (b === '_history' && c === undefined) {
    if (get) return history(ctx, req, a);
    throw methodNotAllowed(req);
  }
  if (b.startsWith('$')) throw notFound(`Unknown operation ${b}`);
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
        throw methodNotAllowed(req);
    }
  }
  if (c === '_history') {
    if (!get) throw methodNotAllowed(req);
    if (d === undefined) return history(ctx, req, a, b);
    return vread(ctx, req, a, b, d);
  }
  if (a === 'Patient' && c === '$everything' && d === undefined) {
    if (get) return patientEverything(ctx, req, b);
    throw methodNotAllowed(req);
  }
  if (c.startsWith('$')) throw notFound(`Unknown operation ${c}`);
  if (a === 'Patient' && d === undefined) {
    if (get) return compartmentSearch(ctx, req, b, c);
    throw methodNotAllowed(req);
  }
  throw badRequest(`No route for /${req.path.join('/')}`);
}
