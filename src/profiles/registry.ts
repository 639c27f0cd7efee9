/**
 * The project's profiles: one JSON Schema per file in schemas/profiles (`<name>.schema.json`), with
 * the canonical URL https://linkcare.example.org/fhir/StructureDefinition/<name>. Each schema may
 * $ref the shared definitions of common.defs.json and, for coded elements, `#/$defs/vs-<id>` (a
 * CodeableConcept with a coding from ValueSet <id>) or `#/$defs/vsc-<id>` (a Coding from it); those
 * are generated from the ValueSets of schemas/terminology when the registry is built, so a
 * profile's codes cannot drift from the ValueSets served at /fhir/ValueSet.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createResourceValidator, type ResourceValidator } from '../fhir/validation/validator';
import { projectRoot } from '../project-root';
import { type Catalog, PROJECT_BASE, loadCatalog } from '../terminology/catalog';
import { type ExpandedCode, expandCompose, mapResolver } from '../terminology/expand';

/** Prefix of the project's profile (and extension) URLs. */
export const PROFILE_PREFIX = `${PROJECT_BASE}/StructureDefinition/`;

type Schema = Record<string, unknown>;

/** The compiled profiles. */
export interface ProfileRegistry {
  /** Canonical URL → profile name. */
  names: Map<string, string>;
  /** Canonical URL → the schema as applied (with its generated definitions). */
  schemas: Map<string, Schema>;
  /** Validates a resource against the base schema and every profile it names. */
  validator: ResourceValidator;
  /** Per profile, element path (no indexes) → what a `contains` there asks for (for messages). */
  containsHints: Map<string, Map<string, string>>;
}

const VS_REF = /^#\/\$defs\/(vsc?)-(.+)$/;

/** The Coding shape of a ValueSet: a system of the set and, for that system, one of its codes. */
function codingSchema(url: string, codes: ExpandedCode[]): Schema {
  const systems = [...new Set(codes.map((c) => c.system))];
  return {
    description: `a coding from ${url}`,
    type: 'object',
    required: ['system', 'code'],
    properties: { system: { enum: systems } },
    allOf: systems.map((system) => ({
      if: { required: ['system'], properties: { system: { const: system } } },
      then: { properties: { code: { enum: codes.filter((c) => c.system === system).map((c) => c.code) } } },
    })),
  };
}

/** The CodeableConcept shape: at least one coding from the set; codings of its systems use its codes. */
function conceptSchema(url: string, codes: ExpandedCode[]): Schema {
  const systems = [...new Set(codes.map((c) => c.system))];
  return {
    type: 'object',
    required: ['coding'],
    properties: {
      coding: {
        type: 'array',
        // Other codings (translations) may ride along; those of the set's systems must be right.
        contains: { description: `a coding from ${url}`, type: 'object', required: ['system', 'code'], properties: { system: { enum: systems } } },
        items: { allOf: codingSchema(url, codes).allOf },
      },
    },
  };
}

/** Collects the `#/$defs/vs…` names a schema refers to. */
function referencedValueSets(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => referencedValueSets(s, out));
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === '$ref' && typeof v === 'string' && VS_REF.test(v)) out.add(v.slice('#/$defs/'.length));
      else referencedValueSets(v, out);
    }
  }
  return out;
}

/**
 * Where a profile asks for "an array containing …": element path → description, following $refs
 * into the definitions, so that ajv's terse "must contain at least 1 valid item(s)" can be explained.
 */
function containsHints(schema: Schema): Map<string, string> {
  const defs = (schema.$defs ?? {}) as Record<string, Schema>;
  const hints = new Map<string, string>();
  const walk = (node: unknown, path: string, depth: number): void => {
    if (!node || typeof node !== 'object' || depth > 40) return;
    const s = node as Schema;
    if (typeof s.$ref === 'string' && s.$ref.startsWith('#/$defs/')) walk(defs[s.$ref.slice('#/$defs/'.length)], path, depth + 1);
    const contains = s.contains as Schema | undefined;
    if (contains && typeof contains.description === 'string' && !hints.has(path)) hints.set(path, contains.description);
    for (const [name, child] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) walk(child, path ? `${path}.${name}` : name, depth + 1);
    for (const key of ['items', 'then', 'else']) walk(s[key], path, depth + 1);
    for (const key of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(s[key])) (s[key] as unknown[]).forEach((c) => walk(c, path, depth + 1));
  };
  walk(schema, '', 0);
  return hints;
}

/** Builds the registry from a profiles folder and a catalog (tests pass their own). */
export async function buildProfileRegistry(dir = join(projectRoot(), 'schemas/profiles'), catalog: Catalog = loadCatalog()): Promise<ProfileRegistry> {
  const common = JSON.parse(readFileSync(join(dir, 'common.defs.json'), 'utf8')) as { $defs: Record<string, Schema> };
  const resolver = mapResolver(catalog.codeSystems, catalog.valueSets);
  const generated = new Map<string, Schema>();
  const names = new Map<string, string>();
  const schemas = new Map<string, Schema>();
  const hints = new Map<string, Map<string, string>>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.schema.json')).sort()) {
    const name = file.slice(0, -'.schema.json'.length);
    const url = `${PROFILE_PREFIX}${name}`;
    const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Schema;
    const defs: Record<string, Schema> = { ...common.$defs };
    for (const ref of referencedValueSets(schema)) {
      const [, kind, id] = VS_REF.exec(`#/$defs/${ref}`)!;
      const vsUrl = `${PROJECT_BASE}/ValueSet/${id}`;
      const vs = catalog.valueSets.get(vsUrl);
      if (!vs) throw new Error(`profiles: ${file} refers to ${ref}, but there is no ValueSet ${vsUrl} in schemas/terminology`);
      if (!generated.has(ref)) {
        const codes = await expandCompose(vs, resolver);
        generated.set(ref, kind === 'vsc' ? codingSchema(vsUrl, codes) : conceptSchema(vsUrl, codes));
      }
      defs[ref] = generated.get(ref)!;
    }
    const applied = { ...schema, $defs: { ...defs, ...((schema.$defs ?? {}) as object) } };
    names.set(url, name);
    schemas.set(url, applied);
    hints.set(url, containsHints(applied));
  }
  const validator = createResourceValidator({ profileSchemas: schemas as Map<string, object> });
  return { names, schemas, validator, containsHints: hints };
}

let shared: Promise<ProfileRegistry> | undefined;

/** The project's registry, built once per process on first use. */
export function profileRegistry(): Promise<ProfileRegistry> {
  shared ??= buildProfileRegistry();
  // A failed build is not cached: the next write tries again and reports the same error.
  shared.catch(() => (shared = undefined));
  return shared;
}
