/**
 * The framework-free request/response shapes every handler works on, and the context
 * (store, config, validator) built once per app. Nothing below src/http sees express.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Config } from '../config';
import type { Store } from '../store/port';
import type { SearchRegistry } from '../search/registry';
import type { OperationRegistry } from './operations';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Ordered query parameters as received ([name, value] pairs; repetition preserved). */
export type QueryPairs = [string, string][];

export interface FhirRequest {
  method: HttpMethod;
  /** Path segments below the FHIR base, e.g. ['Patient', 'abc', '_history', '2']. */
  path: string[];
  query: QueryPairs;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** Parsed JSON body, if any. */
  body?: unknown;
  requestId: string;
}

export interface FhirResponse {
  status: number;
  body?: Resource;
  headers?: Record<string, string>;
}

/** Validates a resource; returns one issue per problem (empty when valid). */
export interface ResourceValidator {
  validate(resource: unknown): OperationOutcomeIssue[];
}

/** Everything a handler needs, built once by createApp. */
export interface FhirContext {
  store: Store;
  config: Config;
  validator: ResourceValidator;
  registry: SearchRegistry;
  operations: OperationRegistry;
}

/** First value of a header or query parameter. */
export function header(req: FhirRequest, name: string): string | undefined {
  return req.headers[name.toLowerCase()];
}

/** All values of one query parameter, in order. */
export function queryValues(query: QueryPairs, name: string): string[] {
  return query.filter(([k]) => k === name).map(([, v]) => v);
}
