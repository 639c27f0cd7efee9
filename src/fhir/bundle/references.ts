/**
 * Rewriting references inside a transaction: `urn:uuid:` fullUrls become the ids the server
 * assigned, and conditional references (`Patient?identifier=…`) become the one resource they match
 * (http://hl7.org/fhir/R4/http.html#trules).
 */

/** Visits every `reference` string in a resource and replaces it when `map` returns a value. */
export function rewriteReferences(node: unknown, map: (ref: string) => string | undefined): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteReferences(item, map);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'reference' && typeof value === 'string') {
      const replaced = map(value);
      if (replaced !== undefined) obj.reference = replaced;
    } else if (typeof value === 'object') {
      rewriteReferences(value, map);
    }
  }
}

/** Collects every `reference` string in a resource. */
export function collectReferences(node: unknown, out: string[] = []): string[] {
  rewriteReferences(node, (ref) => {
    out.push(ref);
    return undefined;
  });
  return out;
}

/** True for a conditional reference such as `Patient?identifier=x|y`. */
export function isConditionalReference(ref: string): boolean {
  return /^[A-Z][A-Za-z]+\?./.test(ref);
}
