/**
 * The framework-free request/response shapes every handler works on, and the context
 * (store, config, validator) built once per app. Nothing below src/http sees express.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Config } from '../config';
import type { Store } from '../store/port';
import type { SearchRegistry } from '../search/registry';
import type { OperationRegistry } from './operations';
import type { Principal } from '../auth/principal';
import type { AuditTrail } from '../audit/recorder';
import type { AuditGroupCommit } from '../audit/group-commit';
import type { WriteRule } from './rules';
import type { WorkerPool } from '../jobs/workers';
import { OperationOutcomeError, issue, outcome } from './outcome';

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
  /** The authenticated caller; absent only on the public metadata endpoint. */
  principal?: Principal;
  /** What this request did, written to the audit trail with it. */
  audit: AuditTrail;
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
  /** Commits the audit events of reads and refusals, batched. */
  audit: AuditGroupCommit;
  /** Write rules of the feature modules (src/fhir/rules.ts), in order. */
  rules: readonly WriteRule[];
  /** Search query rewrites of the feature modules, applied in order to searches of their type. */
  searchRewrites: readonly SearchRewrite[];
  /** Start-up seeding; requests wait for it. */
  ready: Promise<void>;
  /** Background workers of this instance, when running (kick one after enqueueing a job). */
  workers?: WorkerPool;
}

/**
 * A module's rewrite of one type's search query before parsing, e.g. a parameter whose meaning
 * depends on the request's clock, turned into a registered parameter with a value.
 */
export interface SearchRewrite {
  type: string;
  rewrite(query: QueryPairs, ctx: FhirContext, now: Date): QueryPairs;
}

/** The caller, or 401 when the request is not authenticated. */
export function principalOf(req: FhirRequest): Principal {
  if (!req.principal) throw new OperationOutcomeError(401, outcome(issue('login', 'Authentication required')));
  return req.principal;
}

/** First value of a header or query parameter. */
export function header(req: FhirRequest, name: string): string | undefined {
  return req.headers[name.toLowerCase()];
}

/** All values of one query parameter, in order. */
export function queryValues(query: QueryPairs, name: string): string[] {
  return query.filter(([k]) => k === name).map(([, v]) => v);
}

/**
 * Purposes that open what a consent keeps for emergencies (v3-ActReason ETREAT "emergency
 * treatment", BTG "break the glass"): a clinician's call, never an outreach worker's or an
 * analyst's, so only clinicians may declare them (each such request is audited with its purpose).
 */
const EMERGENCY_PURPOSES: ReadonlySet<string> = new Set(['ETREAT', 'BTG']);

/**
 * The purpose of use the caller declared (`X-Purpose-Of-Use`, a v3-ActReason code), for consent
 * decisions; 403 for an emergency purpose declared by someone who is not a clinician.
 * http://hl7.org/fhir/R4/v3/ActReason/cs.html
 */
export function purposeOf(req: FhirRequest): string | undefined {
  const p = req.headers['x-purpose-of-use'];
  if (!p || !/^[A-Z]{2,16}$/.test(p)) return undefined;
  if (EMERGENCY_PURPOSES.has(p) && !principalOf(req).roles.includes('clinician')) {
    throw new OperationOutcomeError(403, outcome(issue('forbidden', `Only clinicians may declare the purpose of use ${p}`)));
  }
  return p;
}
