/**
 * `:in` / `:not-in` (http://hl7.org/fhir/R4/search.html#token): the ValueSet named by the value is
 * looked up among the server's ValueSets and expanded to its codes before the plan runs. Only
 * enumerated value sets expand here (compose.include concepts, or a stored expansion); one that
 * needs a terminology server is refused with a 400 that says so.
 */
import type { ValueSet, ValueSetExpansionContains } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome';
import type { Predicate, SearchPlan, TokenValue } from './plan';

/** Finds a ValueSet by canonical URL (with an optional `|version`). */
export type ValueSetLookup = (url: string) => Promise<ValueSet | undefined>;

function fromContains(items: ValueSetExpansionContains[] | undefined, out: TokenValue[]): void {
  for (const c of items ?? []) {
    if (c.code) out.push({ system: c.system ?? null, code: c.code });
    fromContains(c.contains, out);
  }
}

/** The codes of an enumerated value set, or a 400 when it cannot be expanded here. */
export function expandEnumerated(vs: ValueSet): TokenValue[] {
  const out: TokenValue[] = [];
  if (vs.expansion?.contains?.length) {
    fromContains(vs.expansion.contains, out);
    return out;
  }
  for (const inc of vs.compose?.include ?? []) {
    if (inc.filter?.length || inc.valueSet?.length || !inc.concept?.length) {
      throw badRequest(`ValueSet ${vs.url} is not an enumerated list of codes; it cannot be expanded for :in here`);
    }
    for (const c of inc.concept) out.push({ system: inc.system ?? null, code: c.code });
  }
  if (vs.compose?.exclude?.length) throw badRequest(`ValueSet ${vs.url} uses exclusions; it cannot be expanded for :in here`);
  return out;
}

function* tokenValueSets(p: Predicate): Generator<{ valueSetUrl?: string; expansion?: TokenValue[] }> {
  switch (p.kind) {
    case 'param':
      for (const v of p.values) if (v.type === 'token' && v.valueSetUrl) yield v;
      break;
    case 'chain':
    case 'has':
      yield* tokenValueSets(p.inner);
      break;
    case 'or':
      for (const q of p.any) yield* tokenValueSets(q);
      break;
    case 'and':
      for (const q of p.all) yield* tokenValueSets(q);
      break;
    default:
  }
}

/** Expands every `:in`/`:not-in` value set the plan names; unknown ones are a 400. */
export async function resolveValueSets(plan: SearchPlan, lookup: ValueSetLookup): Promise<void> {
  for (const p of plan.where) {
    for (const v of tokenValueSets(p)) {
      const vs = await lookup(v.valueSetUrl!);
      if (!vs) throw badRequest(`ValueSet ${v.valueSetUrl} is not known to this server`);
      v.expansion = expandEnumerated(vs);
    }
  }
}

/** A lookup of ValueSets stored on this server (they are shared knowledge: visible to every role that searches). */
export function storedValueSets(search: (plan: SearchPlan) => Promise<{ matches: { resource?: unknown }[] }>): ValueSetLookup {
  return async (canonical) => {
    const [url, version] = canonical.split('|');
    const plan: SearchPlan = {
      types: ['ValueSet'],
      where: [
        { kind: 'param', param: { base: 'ValueSet', code: 'url', type: 'uri' }, values: [{ type: 'uri', value: url! }] },
        ...(version ? [{ kind: 'param' as const, param: { base: 'ValueSet', code: 'version', type: 'token' as const }, values: [{ type: 'token' as const, token: { code: version } }] }] : []),
      ],
      sort: [{ param: '_lastUpdated', descending: true }],
      count: 1,
      total: 'none',
    };
    return (await search(plan)).matches[0]?.resource as ValueSet | undefined;
  };
}
