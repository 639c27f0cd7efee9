/**
 * Write rules: checks and completions that modules (referrals, consent, services, subscriptions)
 * attach to writes of certain types. Every write path (REST, Bundle entries, operations that
 * write) runs them inside its unit of work, so a refusal leaves nothing written.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Principal } from '../auth/principal';
import type { StoreTx, StoredVersion } from '../store/port';
import type { FhirContext } from './context';

export type WriteAction = 'create' | 'update' | 'patch' | 'delete';

/** One write about to happen (before) or just written (after). */
export interface WriteEvent {
  action: WriteAction;
  type: string;
  id: string;
  /** The new content; absent on delete. */
  resource?: Resource & { id: string };
  /** The current version before this write; absent on create (or update-as-create). */
  previous?: StoredVersion;
  principal: Principal;
}

export interface WriteRule {
  name: string;
  /** Resource types the rule applies to; absent = every type. */
  types?: readonly string[];
  /**
   * Checks (throw an OperationOutcomeError to refuse) or completes the resource before it is
   * stored; a returned resource replaces the one to store. The resource is already schema-valid.
   */
  before?(ctx: FhirContext, tx: StoreTx, event: WriteEvent): Promise<Resource | void>;
  /** Runs after the version is written, in the same unit of work (outbox entries, derived data). */
  after?(ctx: FhirContext, tx: StoreTx, event: WriteEvent, version: StoredVersion): Promise<void>;
  /**
   * The stored resource as clients are shown it (a copy), when that differs: a PATCH applies to
   * this view, so its `test`, `copy` and `move` operations cannot reach what is never shown.
   */
  shown?(resource: Resource): Resource;
}

function applies(rule: WriteRule, type: string): boolean {
  return !rule.types || rule.types.includes(type);
}

/** Runs the `before` rules in order; returns the resource to store. */
export async function runBeforeRules(ctx: FhirContext, tx: StoreTx, event: WriteEvent): Promise<(Resource & { id: string }) | undefined> {
  let current = event;
  for (const rule of ctx.rules) {
    if (!rule.before || !applies(rule, event.type)) continue;
    const replaced = await rule.before(ctx, tx, current);
    if (replaced) current = { ...current, resource: { ...replaced, id: event.id } };
  }
  return current.resource;
}

/** Runs the `after` rules in order. */
export async function runAfterRules(ctx: FhirContext, tx: StoreTx, event: WriteEvent, version: StoredVersion): Promise<void> {
  for (const rule of ctx.rules) {
    if (rule.after && applies(rule, event.type)) await rule.after(ctx, tx, { ...event, resource: version.resource as (Resource & { id: string }) | undefined }, version);
  }
}

/** The types a rule shows differently from how they are stored; undefined when a rule may show any type so. */
export function typesWithShownView(rules: readonly WriteRule[]): readonly string[] | undefined {
  const shown = rules.filter((r) => r.shown);
  return shown.some((r) => !r.types) ? undefined : [...new Set(shown.flatMap((r) => r.types ?? []))];
}

/** The stored resource as clients are shown it: every applying rule's `shown` view, in order. */
export function shownResource(ctx: FhirContext, resource: Resource): Resource {
  let view = resource;
  for (const rule of ctx.rules) if (rule.shown && applies(rule, resource.resourceType)) view = rule.shown(view);
  return view;
}
