/**
 * What a search may ask of AuditEvents, decided once for every store. They are an append-only log
 * searched on their own (src/store/sqlite/audit-log.ts): chains, `_has`, `_include` and
 * `_revinclude` neither start from them nor reach them (`apart`, used by the parser). A search of
 * AuditEvents is answered from narrow key rows on the embedded store, so the API offers the same
 * subset on MongoDB too: exact token and reference matches (with `:not` and `:identifier`), date
 * ranges without modifiers, `:missing`, and sorting by date, `_lastUpdated` or `_id`.
 */
import { badRequest } from '../fhir/outcome';
import type { ParamPredicate, Predicate, SearchPlan } from './plan';

export const AUDIT_LOG = 'AuditEvent';

/** The 400 for a chain, `_has`, include or `_type` list that would start from or reach AuditEvents. */
export function apart(name: string) {
  return badRequest(`AuditEvents are searched on their own: ${name.split(':')[0]} cannot start from or reach them`, name);
}

/** The 400 for a modifier, parameter type or sort outside the AuditEvent subset. */
export function unsupported(what: string) {
  return badRequest(`AuditEvent searches do not support "${what}"`, what);
}

function checkParam(p: ParamPredicate): void {
  const code = p.param.code;
  if (p.param.type === 'date') {
    if (p.modifier) throw unsupported(`${code}:${p.modifier}`);
    return;
  }
  if (p.param.type !== 'token' && p.param.type !== 'reference') throw unsupported(code);
  if (p.modifier && p.modifier !== 'not' && p.modifier !== 'identifier') throw unsupported(`${code}:${p.modifier}`);
  for (const v of p.values) {
    if (v.type === 'token' && (v.text !== undefined || v.valueSetUrl || v.ofType)) throw unsupported(`${code}:${p.modifier ?? 'text'}`);
  }
}

function check(p: Predicate): void {
  if (p.kind === 'param' && p.param.base === AUDIT_LOG) checkParam(p);
  else if (p.kind === 'or') p.any.forEach(check);
  else if (p.kind === 'and') p.all.forEach(check);
  else if (p.kind === 'not') check(p.inner);
}

/** Throws a 400 when a search of AuditEvents asks for something outside the subset above. */
export function assertAuditSearchable(plan: SearchPlan): void {
  if (plan.types.length !== 1 || plan.types[0] !== AUDIT_LOG) return;
  plan.where.forEach(check);
  for (const k of plan.sort) {
    if (k.param !== '_id' && k.param !== '_lastUpdated' && k.param.code !== 'date') throw unsupported(`_sort=${k.param.code}`);
  }
}
