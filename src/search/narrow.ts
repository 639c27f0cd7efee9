/**
 * Simplifies a predicate once the resource types it applies to are known: `type` tests become
 * true or false, and so do the branches they guard. The access policy's visibility predicate
 * covers every type; narrowed to one, it is usually a single custody test, which the SQL planner
 * can then leave to the end instead of letting it pick the wrong index.
 */
import type { Predicate } from './plan';

/** The predicate for resources of `types`, or true/false when that alone decides it. */
export function narrow(p: Predicate, types: readonly string[]): Predicate | boolean {
  switch (p.kind) {
    case 'type': {
      const inside = types.filter((t) => p.types.includes(t)).length;
      if (inside === types.length) return true;
      if (inside === 0) return false;
      return p;
    }
    case 'enrolled':
      return types.includes('Patient') ? p : false;
    case 'and': {
      const parts: Predicate[] = [];
      for (const q of p.all) {
        const n = narrow(q, types);
        if (n === false) return false;
        if (n !== true) parts.push(n);
      }
      return parts.length === 0 ? true : parts.length === 1 ? parts[0]! : { kind: 'and', all: parts };
    }
    case 'or': {
      const parts: Predicate[] = [];
      for (const q of p.any) {
        const n = narrow(q, types);
        if (n === true) return true;
        if (n !== false) parts.push(n);
      }
      return parts.length === 0 ? false : parts.length === 1 ? parts[0]! : { kind: 'or', any: parts };
    }
    case 'not': {
      const n = narrow(p.inner, types);
      return typeof n === 'boolean' ? !n : { kind: 'not', inner: n };
    }
    default:
      return p;
  }
}

/** Narrows a list of AND-ed predicates; `false` when one of them can never hold. */
export function narrowAll(ps: readonly Predicate[], types: readonly string[]): Predicate[] | false {
  const out: Predicate[] = [];
  for (const p of ps) {
    const n = narrow(p, types);
    if (n === false) return false;
    if (n !== true) out.push(n);
  }
  return out;
}
