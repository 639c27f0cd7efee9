/**
 * Subscription.criteria (http://hl7.org/fhir/R4/subscription.html#2.46.7.1): a search URL
 * `Type?params` relative to the base. It is parsed with the server's own search parser, so a
 * subscription matches exactly what the same search would return, access policy included.
 */
import type { FhirContext, QueryPairs } from '../fhir/context';
import type { Principal } from '../auth/principal';
import { OperationOutcomeError, unprocessable } from '../fhir/outcome';
import { isSupportedType } from '../fhir/resource-types';
import { assertAllowed, visibility } from '../policy/access';
import { parseSearch } from '../search/parse';
import type { Predicate, SearchPlan } from '../search/plan';

/** A criteria string taken apart. */
export interface Criteria {
  type: string;
  query: QueryPairs;
}

const WHERE = 'Subscription.criteria';

/**
 * Parameters that shape a result page rather than select resources: meaningless for a
 * notification, and `_include`/`_revinclude` would suggest that other resources are sent.
 */
const NOT_FILTERS = new Set(['_count', '_sort', '_total', '_cursor', '_summary', '_elements', '_format', '_pretty', '_include', '_revinclude', '_type', '_contained', '_containedType']);

/** Splits `Type?a=1&b=2` (or a bare `Type`) into its type and query pairs; undefined when malformed. */
export function splitCriteria(criteria: string): Criteria | undefined {
  const q = criteria.indexOf('?');
  const type = q < 0 ? criteria : criteria.slice(0, q);
  if (!/^[A-Z][A-Za-z]+$/.test(type)) return undefined;
  const query: QueryPairs = [];
  // The same decoding as request URLs (src/http/fhir-handler.ts), so a criteria string means
  // what it would mean typed after the base URL.
  if (q >= 0) for (const [k, v] of new URLSearchParams(criteria.slice(q + 1))) query.push([k, v]);
  return { type, query };
}

/**
 * Checks a criteria string a principal wants to subscribe with: a served type the principal may
 * search, filter parameters only, every parameter known (strict: an ignored parameter would
 * widen the match). Throws 422 (403 when the type is not the principal's to search).
 */
export function checkCriteria(ctx: FhirContext, principal: Principal, criteria: string): Criteria {
  const parsed = splitCriteria(criteria.trim());
  if (!parsed || !isSupportedType(parsed.type)) {
    throw unprocessable('criteria must be a search on a resource type this server serves, such as "Task?owner=Organization/x"', WHERE);
  }
  assertAllowed(principal, parsed.type, 's');
  for (const [name] of parsed.query) {
    if (NOT_FILTERS.has(name.split(':')[0]!)) throw unprocessable(`criteria may only select resources; "${name}" is not allowed`, WHERE);
  }
  let plan: SearchPlan;
  try {
    plan = parseSearch(ctx.registry, [parsed.type], parsed.query, { strict: true, baseUrl: ctx.config.baseUrl }).plan;
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    throw unprocessable(`criteria: ${err.outcome.issue?.[0]?.diagnostics ?? 'not a valid search'}`, WHERE);
  }
  // Matching runs with the visibility of the whole organisation (subscriberPrincipal), so a chain
  // or _has into a type the subscriber may not search would make notifications an oracle over
  // data its role or scopes withhold (security review: outreach learning HIV results).
  for (const type of reachedTypes(plan.where)) assertAllowed(principal, type, 's');
  return parsed;
}

/** Every type a chain or `_has` in the predicates reads (their targets and sources, nested). */
function reachedTypes(where: readonly Predicate[], out = new Set<string>()): Set<string> {
  for (const p of where) {
    if (p.kind === 'chain') {
      out.add(p.targetType);
      reachedTypes([p.inner], out);
    } else if (p.kind === 'has') {
      out.add(p.sourceType);
      reachedTypes([p.inner], out);
    } else if (p.kind === 'and') reachedTypes(p.all, out);
    else if (p.kind === 'or') reachedTypes(p.any, out);
    else if (p.kind === 'not') reachedTypes([p.inner], out);
  }
  return out;
}

/**
 * Who a subscription notifies on behalf of: its holding organisation, with the roles that may
 * hold Subscriptions at all (clinician, outreach; docs/security.md). Creation already checked
 * that the subscriber may search the criteria type, so this principal never widens that.
 */
export function subscriberPrincipal(subscriptionId: string, org: string): Principal {
  return { sub: `Subscription/${subscriptionId}`, org, roles: ['clinician', 'outreach'] };
}

/**
 * The plan "is resource `id` matched by the criteria and visible to `org`": the criteria as a
 * search, narrowed to one id, under the access policy's visibility for the organisation.
 * Throws when the stored criteria no longer parse (the caller skips such a subscription).
 */
export function matchPlan(ctx: FhirContext, criteria: Criteria, id: string, subscriber: Principal): SearchPlan {
  const { plan } = parseSearch(ctx.registry, [criteria.type], criteria.query, { strict: true, baseUrl: ctx.config.baseUrl });
  plan.where.push({ kind: 'id', ids: [id] });
  plan.count = 1;
  plan.total = 'none';
  plan.sort = [];
  delete plan.include;
  delete plan.revinclude;
  delete plan.countOnly;
  delete plan.cursor;
  plan.visibility = visibility(subscriber);
  return plan;
}
