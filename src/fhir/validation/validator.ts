/**
 * Validates resources against the HL7 FHIR R4 JSON Schema plus the cheap FHIR JSON rules the
 * schema cannot express, and turns ajv's output into one OperationOutcome issue per mistake.
 */
import type Ajv from 'ajv';
import type { ErrorObject } from 'ajv';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue, type IssueCode } from '../outcome';
import { SUPPORTED_TYPES } from '../resource-types';
import {
  definitionRef,
  FHIR_SCHEMA_ID,
  generatedPaths,
  generatedValidatorsStatus,
  newFhirAjv,
  readGeneratedMeta,
  sharedValidationSchema,
  VALIDATED_TYPES,
  type GeneratedMeta,
} from './schema';

export { generatedValidatorsStatus, type GeneratedStatus } from './schema';

/** Where compiled validators come from: `auto` prefers a fresh generated module. */
export type ValidatorSource = 'auto' | 'generated' | 'runtime';

/** Options for `createResourceValidator`. */
export interface ResourceValidatorOptions {
  /** Canonical profile URL → JSON Schema, applied when `meta.profile` names the URL. */
  profileSchemas?: Map<string, object>;
  /** Defaults to `auto`; `generated` throws when the module is missing or stale. */
  source?: ValidatorSource;
}

/** A configured validator; `validate` returns no issues for a valid resource. */
export interface ResourceValidator {
  readonly source: 'generated' | 'runtime';
  validate(resource: unknown): OperationOutcomeIssue[];
}

type CheckFn = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

interface Backend {
  kind: 'generated' | 'runtime';
  check(type: string): CheckFn | undefined;
  resourceTypes: Set<string>;
  patternNames: Record<string, string>;
}

type Json = Record<string, unknown>;

const validatedTypes = new Set(VALIDATED_TYPES);
const topLevelTypes = new Set([...SUPPORTED_TYPES, 'Bundle', 'Parameters']);
// Far deeper than real FHIR JSON (each nested Questionnaire item costs two levels).
const MAX_JSON_DEPTH = 128;
const NON_SPACE = /\S/u;
const WRAPPER_KEYWORDS = new Set(['anyOf', 'oneOf', 'allOf', 'if', 'then', 'else']);
// Within one expression the most specific explanation wins; lower is more specific.
const RANK: Record<string, number> = {
  required: 1,
  additionalProperties: 1,
  type: 2,
  const: 3,
  enum: 4,
  pattern: 5,
  minimum: 5,
  maximum: 5,
};
const OWN_RULE_RANK = 0;
const OTHER_RANK = 6;

/** Creates a validator; see README.md for how validators are loaded. */
export function createResourceValidator(options: ResourceValidatorOptions = {}): ResourceValidator {
  const backend = selectBackend(options.source ?? 'auto');
  const profiles = new ProfileChecks(options.profileSchemas);
  return {
    source: backend.kind,
    validate(resource: unknown): OperationOutcomeIssue[] {
      const sink = new IssueSink();
      const problem = topLevelProblem(backend, resource);
      if (problem) sink.add(OWN_RULE_RANK, problem);
      else {
        const type = (resource as Json).resourceType as string;
        // Own rules first: they also refuse input too deep for ajv's recursive validators.
        if (checkOwnRules(resource, [type], sink)) checkResource({ backend, profiles, sink }, resource as Json, type, type);
      }
      return sink.issues();
    },
  };
}

function topLevelProblem(backend: Backend, resource: unknown): OperationOutcomeIssue | undefined {
  if (!isObject(resource)) return issue('structure', 'A resource must be a JSON object');
  const type = resource.resourceType;
  if (typeof type !== 'string' || type === '') return issue('required', 'Missing resourceType');
  return topLevelTypes.has(type) ? undefined : typeIssue(backend, type, undefined);
}

interface Run {
  backend: Backend;
  profiles: ProfileChecks;
  sink: IssueSink;
}

function checkResource(run: Run, resource: Json, type: string, prefix: string): void {
  const check = run.backend.check(type) as CheckFn;
  if (!check(resource)) mapErrors(check.errors ?? [], resource, prefix, run, undefined);
  for (const url of profileUrls(resource)) {
    const profileCheck = run.profiles.get(url);
    if (profileCheck && !profileCheck(resource)) mapErrors(profileCheck.errors ?? [], resource, prefix, run, url);
  }
  for (const [child, path] of nestedResources(resource, type, prefix)) {
    // Non-objects and a missing resourceType were already reported by the shallow ResourceList schema.
    if (!isObject(child) || typeof child.resourceType !== 'string') continue;
    if (validatedTypes.has(child.resourceType)) checkResource(run, child, child.resourceType, path);
    else run.sink.add(OWN_RULE_RANK, typeIssue(run.backend, child.resourceType, path));
  }
}

function typeIssue(backend: Backend, type: string, expression: string | undefined): OperationOutcomeIssue {
  return backend.resourceTypes.has(type)
    ? issue('not-supported', `Resource type '${type}' is not supported here`, expression)
    : issue('structure', `Unknown resource type '${type}'`, expression);
}

// The places where R4 embeds whole resources (every use of ResourceList in the schema).
function nestedResources(resource: Json, type: string, prefix: string): [unknown, string][] {
  const found: [unknown, string][] = [];
  eachItem(resource.contained, `${prefix}.contained`, (item, path) => found.push([item, path]));
  if (type === 'Bundle') {
    eachItem(resource.entry, `${prefix}.entry`, (entry, path) => {
      if (!isObject(entry)) return;
      if (entry.resource !== undefined) found.push([entry.resource, `${path}.resource`]);
      if (isObject(entry.response) && entry.response.outcome !== undefined) {
        found.push([entry.response.outcome, `${path}.response.outcome`]);
      }
    });
  }
  if (type === 'Parameters') {
    const visit = (parameters: unknown, path: string): void =>
      eachItem(parameters, path, (parameter, itemPath) => {
        if (!isObject(parameter)) return;
        if (parameter.resource !== undefined) found.push([parameter.resource, `${itemPath}.resource`]);
        visit(parameter.part, `${itemPath}.part`);
      });
    visit(resource.parameter, `${prefix}.parameter`);
  }
  return found;
}

function eachItem(list: unknown, path: string, visit: (item: unknown, path: string) => void): void {
  if (Array.isArray(list)) list.forEach((item, i) => visit(item, `${path}[${i}]`));
}

function profileUrls(resource: Json): string[] {
  const profile = isObject(resource.meta) ? resource.meta.profile : undefined;
  return Array.isArray(profile) ? profile.filter((url): url is string => typeof url === 'string') : [];
}

/**
 * FHIR JSON rules the schema misses (http://hl7.org/fhir/R4/json.html, datatypes.html#string).
 * Returns false when the input is nested too deeply to hand to ajv, which recurses.
 */
function checkOwnRules(value: unknown, path: (string | number)[], sink: IssueSink): boolean {
  // Paths are kept as raw segments and only formatted when something is wrong: this walk
  // visits every node, and string building dominated its cost.
  if (typeof value === 'string') {
    if (value === '') sink.add(OWN_RULE_RANK, issue('value', 'Empty strings are not allowed; omit the element', fhirPath(path)));
    else if (!NON_SPACE.test(value)) sink.add(OWN_RULE_RANK, issue('value', 'A string must not be only whitespace', fhirPath(path)));
    return true;
  }
  if (typeof value !== 'object' || value === null) return true;
  if (path.length > MAX_JSON_DEPTH) {
    sink.add(OWN_RULE_RANK, issue('too-costly', `Elements are nested more than ${MAX_JSON_DEPTH} levels deep`, fhirPath(path)));
    return false;
  }
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  if (keys.length === 0) {
    const what = Array.isArray(value) ? 'arrays' : 'objects';
    sink.add(OWN_RULE_RANK, issue('structure', `Empty ${what} are not allowed; omit the element`, fhirPath(path)));
    if (!Array.isArray(value)) sink.markEmptyObject(fhirPath(path));
  }
  for (const key of keys) {
    path.push(key);
    const ok = checkOwnRules((value as Record<string | number, unknown>)[key], path, sink);
    path.pop();
    if (!ok) return false;
  }
  return true;
}

function fhirPath(path: (string | number)[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${segment(s)}`)).join('');
}

function mapErrors(errors: ErrorObject[], data: Json, prefix: string, run: Run, profileUrl: string | undefined): void {
  for (const error of errors) {
    if (WRAPPER_KEYWORDS.has(error.keyword) && explainedElsewhere(error, errors)) continue;
    // Required-element groups (schema.ts) name the element first; later branches are alternatives.
    if (error.keyword === 'required' && /\/anyOf\/[1-9]\d*\/required$/.test(error.schemaPath)) continue;
    const described = describe(error, data, prefix, run.backend.patternNames);
    const diagnostics = profileUrl ? `${described.diagnostics} (profile ${profileUrl})` : described.diagnostics;
    run.sink.add(RANK[error.keyword] ?? OTHER_RANK, issue(described.code, diagnostics, described.expression));
  }
}

// A wrapper (anyOf, if...) only adds noise when its branches reported something at or below it.
function explainedElsewhere(wrapper: ErrorObject, errors: ErrorObject[]): boolean {
  return errors.some((e) => !WRAPPER_KEYWORDS.has(e.keyword) && e.instancePath.startsWith(wrapper.instancePath));
}

function describe(
  error: ErrorObject,
  data: Json,
  prefix: string,
  patternNames: Record<string, string>,
): { code: IssueCode; diagnostics: string; expression: string } {
  const { expression, value } = locate(data, prefix, error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const name = String(params.missingProperty);
      const element = name.replace(/\[x]$/, '');
      return { code: 'required', diagnostics: `Missing required element '${name}'`, expression: `${expression}.${segment(element)}` };
    }
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      return { code: 'structure', diagnostics: `Unknown element '${name}'`, expression: `${expression}.${segment(name)}` };
    }
    case 'type': {
      const expected = String(params.type);
      const found = jsonType(value);
      const shape = [expected, found].some((t) => t === 'array' || t === 'object');
      return { code: shape ? 'structure' : 'value', diagnostics: `Expected ${expected}, found ${found}`, expression };
    }
    case 'const': {
      const wanted = show(params.allowedValue);
      const what = expression.endsWith('.resourceType') ? 'resourceType' : 'value';
      return { code: 'value', diagnostics: `Expected ${what} ${wanted}, found ${show(value)}`, expression };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const list = allowed.length > 12 ? `${allowed.slice(0, 12).join(', ')}, ...` : allowed.join(', ');
      return { code: 'value', diagnostics: `Invalid code ${show(value)}; expected one of: ${list}`, expression };
    }
    case 'pattern': {
      const typeName = patternNames[String(params.pattern)];
      const diagnostics = typeName
        ? `Invalid ${typeName} ${show(value)}`
        : `Value ${show(value)} does not match the pattern ${String(params.pattern)}`;
      return { code: 'value', diagnostics, expression };
    }
    case 'minimum':
    case 'maximum':
      return { code: 'value', diagnostics: `Value ${show(value)} ${error.message ?? 'is out of range'}`, expression };
    default:
      return { code: 'invalid', diagnostics: error.message ?? `Failed the '${error.keyword}' rule`, expression };
  }
}

/** Turns an ajv instancePath into a FHIRPath expression, using the data to spot array indexes. */
function locate(data: unknown, prefix: string, pointer: string): { expression: string; value: unknown } {
  let expression = prefix;
  let value = data;
  if (pointer === '') return { expression, value };
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(value)) {
      expression += `[${key}]`;
      value = value[Number(key)];
    } else {
      expression += `.${segment(key)}`;
      value = isObject(value) ? value[key] : undefined;
    }
  }
  return { expression, value };
}

// FHIRPath needs backticks around names that are not plain identifiers (e.g. an unknown "foo-bar").
function segment(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `\`${name.replace(/`/g, '\\`')}\``;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects issues, keeping one per expression: the most specific explanation of that spot. */
class IssueSink {
  private readonly byKey = new Map<string, { rank: number; issue: OperationOutcomeIssue }>();
  private readonly emptyObjects: string[] = [];

  add(rank: number, item: OperationOutcomeIssue): void {
    const key = item.expression?.[0] ?? `#${item.diagnostics}`;
    const existing = this.byKey.get(key);
    if (!existing || rank < existing.rank) this.byKey.set(key, { rank, issue: item });
  }

  markEmptyObject(path: string): void {
    this.emptyObjects.push(path);
  }

  issues(): OperationOutcomeIssue[] {
    // "Missing required X" inside an empty object restates the empty-object issue.
    const insideEmpty = (expression: string | undefined): boolean =>
      expression !== undefined && this.emptyObjects.some((p) => expression.startsWith(`${p}.`));
    return [...this.byKey.values()].map((entry) => entry.issue).filter((item) => !insideEmpty(item.expression?.[0]));
  }
}

/** Compiles profile schemas on first use; unknown profile URLs yield nothing. */
class ProfileChecks {
  private readonly compiled = new Map<string, CheckFn>();
  private ajv: Ajv | undefined;
  private hasFhirSchema = false;

  constructor(private readonly schemas: Map<string, object> | undefined) {}

  get(url: string): CheckFn | undefined {
    const schema = this.schemas?.get(url);
    if (!schema) return undefined;
    let check = this.compiled.get(url);
    if (!check) {
      this.ajv ??= newFhirAjv();
      // Profiles may $ref FHIR datatypes; only then pay for loading the full schema here.
      if (!this.hasFhirSchema && JSON.stringify(schema).includes(FHIR_SCHEMA_ID)) {
        this.ajv.addSchema(sharedValidationSchema().schema);
        this.hasFhirSchema = true;
      }
      try {
        check = this.ajv.compile(schema) as CheckFn;
      } catch (err) {
        throw new Error(`validation: the JSON Schema for profile ${url} does not compile: ${(err as Error).message}`);
      }
      this.compiled.set(url, check);
    }
    return check;
  }
}

function selectBackend(source: ValidatorSource): Backend {
  if (source === 'runtime') return runtimeBackend();
  const status = generatedValidatorsStatus();
  if (status === 'fresh') return generatedBackend();
  if (source === 'generated') {
    throw new Error(`validation: generated/fhir-validators.js is ${status}; run \`npx tsx scripts/build-validators.ts\``);
  }
  if (status === 'stale' && !warnedStale) {
    warnedStale = true;
    process.emitWarning('generated/fhir-validators.js is stale; compiling FHIR validators at runtime instead (slower start)');
  }
  return runtimeBackend();
}

let warnedStale = false;
let generated: Backend | undefined;

function generatedBackend(): Backend {
  if (!generated) {
    const meta = readGeneratedMeta() as GeneratedMeta;
    const exported = require(generatedPaths().module) as Record<string, CheckFn>;
    generated = {
      kind: 'generated',
      check: (type) => (validatedTypes.has(type) ? exported[type] : undefined),
      resourceTypes: new Set(meta.resourceTypes),
      patternNames: meta.patternNames,
    };
  }
  return generated;
}

function runtimeBackend(): Backend {
  const { schema, resourceTypes, patternNames } = sharedValidationSchema();
  const compiled = new Map<string, CheckFn>();
  let ajv: Ajv | undefined;
  return {
    kind: 'runtime',
    resourceTypes,
    patternNames,
    check(type: string): CheckFn | undefined {
      if (!validatedTypes.has(type)) return undefined;
      let check = compiled.get(type);
      if (!check) {
        if (!ajv) {
          ajv = newFhirAjv();
          ajv.addSchema(schema);
        }
        check = ajv.getSchema(definitionRef(type)) as CheckFn;
        compiled.set(type, check);
      }
      return check;
    },
  };
}
