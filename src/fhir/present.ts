/**
 * Response shaping: `_summary` and `_elements` (http://hl7.org/fhir/R4/search.html#summary,
 * http://hl7.org/fhir/R4/search.html#elements). A shaped resource is tagged SUBSETTED.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { QueryPairs } from './context';
import { queryValues } from './context';
import { badRequest } from './outcome';
import summaryElements from './summary-elements.json';

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
const ALWAYS = ['resourceType', 'id', 'meta'];

export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

export interface Shape {
  summary?: SummaryMode;
  elements?: string[];
}

const table = summaryElements as Record<string, { summary: string[]; mandatory: string[] }>;

/** Reads `_summary` and `_elements` from the query; rejects bad values. */
export function readShape(query: QueryPairs): Shape {
  const shape: Shape = {};
  const summary = queryValues(query, '_summary')[0];
  if (summary !== undefined) {
    if (!['true', 'text', 'data', 'count', 'false'].includes(summary)) {
      throw badRequest('_summary must be true, text, data, count or false', '_summary');
    }
    shape.summary = summary as SummaryMode;
  }
  const elements = queryValues(query, '_elements');
  if (elements.length) {
    shape.elements = elements.flatMap((e) => e.split(',')).map((e) => e.trim()).filter(Boolean);
    if (shape.elements.some((e) => !/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)?$/.test(e))) {
      throw badRequest('_elements takes a comma-separated list of element names', '_elements');
    }
  }
  return shape;
}

/** True when JSON key `key` is the element `name` (choice elements end in [x]). */
function keyMatches(key: string, name: string): boolean {
  const bare = key.startsWith('_') ? key.slice(1) : key;
  if (name.endsWith('[x]')) {
    const stem = name.slice(0, -3);
    return bare.startsWith(stem) && bare.length > stem.length && /[A-Z]/.test(bare[stem.length]!);
  }
  return bare === name;
}

function keep(resource: Resource, names: string[]): Resource {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    if (ALWAYS.includes(key) || names.some((n) => keyMatches(key, n))) out[key] = value;
  }
  return out as unknown as Resource;
}

function tagSubsetted(resource: Resource): Resource {
  const meta = { ...resource.meta, tag: [...(resource.meta?.tag ?? []), SUBSETTED] };
  return { ...resource, meta } as Resource;
}

/** Applies the shape to one resource; returns it unchanged when no shaping was asked. */
export function applyShape(resource: Resource, shape: Shape): Resource {
  const info = table[resource.resourceType];
  if (shape.elements && shape.summary !== 'count') {
    const names = [...new Set([...shape.elements, ...(info?.mandatory ?? [])])];
    return tagSubsetted(keep(resource, names));
  }
  switch (shape.summary) {
    case 'true':
      return tagSubsetted(keep(resource, info?.summary ?? []));
    case 'text':
      return tagSubsetted(keep(resource, ['text', ...(info?.mandatory ?? [])]));
    case 'data': {
      const { text: _text, ...rest } = resource as Resource & { text?: unknown };
      return tagSubsetted(rest as Resource);
    }
    default:
      return resource;
  }
}
