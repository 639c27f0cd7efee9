/**
 * References a resource makes, and rewriting them inside a transaction: `urn:uuid:` fullUrls become
 * the ids the server assigned, and conditional references (`Patient?identifier=…`) become the one
 * resource they match (http://hl7.org/fhir/R4/http.html#trules).
 */
import { elementType } from '../validation/element-types';

/** Called with each reference string and its FHIRPath; a returned value replaces the reference. */
export type ReferenceVisitor = (ref: string, path: string) => string | undefined;

/** `[Observation, performer, 1]` → `Observation.performer[1]`. */
function pathText(path: readonly (string | number)[]): string {
  return path.map((step, i) => (typeof step === 'number' ? `[${step}]` : i ? `.${step}` : step)).join('');
}

/**
 * `path` holds the steps down to `node` (`Observation`, `performer`, 1); they are written out as a
 * FHIRPath only for a reference, not for every element of every resource written.
 */
function visit(node: unknown, path: (string | number)[], fn: ReferenceVisitor): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      path.push(i);
      visit(item, path, fn);
      path.pop();
    });
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'reference' && typeof value === 'string') {
      const replaced = fn(value, `${pathText(path)}.reference`);
      if (replaced !== undefined) obj.reference = replaced;
    } else if (typeof value === 'object') {
      path.push(key);
      visit(value, path, fn);
      path.pop();
    }
  }
}

/**
 * Visits every `reference` string in a resource and replaces it when `map` returns a value. Paths
 * start at `root` (by default the resource type): `Observation.performer[1].reference`.
 */
export function rewriteReferences(node: unknown, map: ReferenceVisitor, root?: string): void {
  const type = (node as { resourceType?: unknown } | null)?.resourceType;
  visit(node, [root ?? (typeof type === 'string' ? type : '$this')], map);
}

/** True for a conditional reference such as `Patient?identifier=x|y` (a search URL, not a location). */
export function isConditionalReference(ref: string): boolean {
  return /^[A-Z][A-Za-z]+\?/.test(ref);
}

/** True for a `urn:uuid:` or `urn:oid:` reference: it names a Bundle entry, never a stored resource. */
export function isUrnReference(ref: string): boolean {
  return /^urn:(?:uuid|oid):/i.test(ref);
}

/**
 * The first reference in a resource that this server cannot resolve outside a transaction: a
 * search URL or a Bundle-local URN. Stored as sent, either would point nowhere, and would hide the
 * client the resource is about from the enrolment check.
 */
export function unresolvableReference(resource: unknown, root?: string): { ref: string; path: string } | undefined {
  let found: { ref: string; path: string } | undefined;
  rewriteReferences(resource, (ref, path) => {
    if (!found && (isConditionalReference(ref) || isUrnReference(ref))) found = { ref, path };
    return undefined;
  }, root);
  return found;
}

/** FHIR types whose values are URIs (`oid` and `uuid` choice variants are inlined in the schema: see uriTyped). */
const URI_TYPES = new Set(['uri', 'url', 'canonical', 'oid', 'uuid']);

/**
 * Whether `prop` of an element of definition `parent` may hold a URI. The schema names the type
 * of every element except the choice variants it inlines as a bare pattern it cannot name
 * (`valueOid`, `valueUuid`); an element it types as anything else (`Identifier.value` is a
 * string) is left alone even when its value looks like a fullUrl.
 */
function uriTyped(parent: string, prop: string): boolean {
  const type = elementType(parent, prop);
  return type === undefined ? /(?:Oid|Uuid)$/.test(prop) : URI_TYPES.has(type);
}

/** `<a href="urn:uuid:…">` and `<img src="urn:uuid:…">` in narrative XHTML. */
const XHTML_LINK = /\b(href|src)(\s*=\s*)(["'])(urn:(?:uuid|oid):[^"']*)\3/gi;

function rewriteXhtml(div: string, map: Map<string, string>): string {
  return div.replace(XHTML_LINK, (all, attr: string, eq: string, quote: string, urn: string) => {
    const to = map.get(urn);
    return to === undefined ? all : `${attr}${eq}${quote}${to}${quote}`;
  });
}

function rewriteElement(node: unknown, def: string, map: Map<string, string>): void {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
  const obj = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'resourceType') continue;
    // A contained resource (ResourceList) starts again from its own type; `_x` members are Element.
    const type = elementType(def, key);
    const childDef = (item: unknown) => (type === 'ResourceList' ? (item as { resourceType?: string } | null)?.resourceType : type);
    const items = Array.isArray(value) ? value : [value];
    items.forEach((item, i) => {
      if (typeof item === 'string') {
        const to = type === 'xhtml' ? rewriteXhtml(item, map) : uriTyped(def, key) ? map.get(item) : undefined;
        if (to === undefined || to === item) return;
        if (Array.isArray(value)) value[i] = to;
        else obj[key] = to;
      } else {
        const d = childDef(item);
        if (d) rewriteElement(item, d, map);
      }
    });
  }
}

/** The URN entries of a transaction's reference map (`urn:uuid:`, `urn:oid:` → `Type/id`), once per Bundle. */
export function urnsOf(map: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...map].filter(([from]) => isUrnReference(from)));
}

/**
 * Replaces Bundle-local URNs (`urn:uuid:`, `urn:oid:` fullUrls mapped to `Type/id` by `map`) where
 * a resource holds them outside Reference.reference: elements of type uri, url, canonical, oid and
 * uuid (Attachment.url, Provenance.policy, valueUri…) and `href`/`src` attributes in the narrative
 * (http://hl7.org/fhir/R4/http.html#trules). Only exact matches are replaced.
 */
export function rewriteUris(resource: unknown, urns: Map<string, string>): void {
  const type = (resource as { resourceType?: unknown } | null)?.resourceType;
  if (!urns.size || typeof type !== 'string') return;
  rewriteElement(resource, type, urns);
}
