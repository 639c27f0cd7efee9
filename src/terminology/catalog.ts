/**
 * The project's knowledge resources as files: every CodeSystem and ValueSet in schemas/terminology
 * and every Questionnaire in schemas/questionnaires. The files are the source of truth; start-up
 * seeding copies them into the store, and the profiles read them from here (no store round trip).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem, CodeSystemConcept, Questionnaire, ValueSet } from '@medplum/fhirtypes';
import { projectRoot } from '../project-root';

/** Canonical base of everything the project defines. */
export const PROJECT_BASE = 'https://linkcare.example.org/fhir';
/** Prefix of the project's own CodeSystem URLs. */
export const PROJECT_CODE_SYSTEM_PREFIX = `${PROJECT_BASE}/CodeSystem/`;

export type KnowledgeResource = (CodeSystem | ValueSet | Questionnaire) & { id: string; url: string };

/** The loaded files, indexed by canonical URL. */
export interface Catalog {
  /** Every resource, in file name order (seeding order). */
  resources: KnowledgeResource[];
  codeSystems: Map<string, CodeSystem & { id: string; url: string }>;
  valueSets: Map<string, ValueSet & { id: string; url: string }>;
  questionnaires: Map<string, Questionnaire & { id: string; url: string }>;
}

const FOLDERS = ['schemas/terminology', 'schemas/questionnaires'];
const TYPES = new Set(['CodeSystem', 'ValueSet', 'Questionnaire']);
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

let cached: Catalog | undefined;

/** Reads one folder's JSON files; a malformed file stops start-up with its name. */
function readFolder(dir: string): KnowledgeResource[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  return files.map((file) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (err) {
      throw new Error(`terminology: ${file} is not valid JSON: ${(err as Error).message}`);
    }
    const r = parsed as Partial<KnowledgeResource>;
    if (!r || !TYPES.has(r.resourceType as string) || typeof r.id !== 'string' || !ID.test(r.id) || typeof r.url !== 'string') {
      throw new Error(`terminology: ${file} must be a CodeSystem, ValueSet or Questionnaire with an id and a url`);
    }
    return r as KnowledgeResource;
  });
}

/** Builds a catalog from explicit folders (tests) or the project's folders. */
export function buildCatalog(folders: string[] = FOLDERS.map((f) => join(projectRoot(), f))): Catalog {
  const catalog: Catalog = { resources: [], codeSystems: new Map(), valueSets: new Map(), questionnaires: new Map() };
  const ids = new Set<string>();
  for (const dir of folders) {
    for (const r of readFolder(dir)) {
      const key = `${r.resourceType}/${r.id}`;
      if (ids.has(key)) throw new Error(`terminology: ${key} is defined twice`);
      ids.add(key);
      catalog.resources.push(r);
      const byUrl = r.resourceType === 'CodeSystem' ? catalog.codeSystems : r.resourceType === 'ValueSet' ? catalog.valueSets : catalog.questionnaires;
      if (byUrl.has(r.url)) throw new Error(`terminology: two ${r.resourceType}s share the url ${r.url}`);
      (byUrl as Map<string, KnowledgeResource>).set(r.url, r);
    }
  }
  return catalog;
}

/** The project's catalog, read once per process (the files do not change while it runs). */
export function loadCatalog(): Catalog {
  return (cached ??= buildCatalog());
}

/** Every concept of a CodeSystem, nested concepts included, by code. */
export function conceptIndex(cs: CodeSystem): Map<string, CodeSystemConcept> {
  const out = new Map<string, CodeSystemConcept>();
  const walk = (list: CodeSystemConcept[] | undefined): void => {
    for (const c of list ?? []) {
      out.set(c.code!, c);
      walk(c.concept);
    }
  };
  walk(cs.concept);
  return out;
}
