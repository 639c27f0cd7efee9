/**
 * Safe JSON bodies: strict UTF-8, bounded nesting (checked before parsing, so hostile depth
 * cannot exhaust the stack), and no prototype-polluting keys.
 */
import { badRequest } from '../fhir/outcome';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes as UTF-8; invalid sequences are a 400. */
export function decodeUtf8(buf: Buffer): string {
  try {
    return utf8.decode(buf);
  } catch {
    throw badRequest('The request body is not valid UTF-8');
  }
}

/** Deepest array/object nesting in JSON text, counted without parsing. */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/** Throws when any object in the value has a forbidden key; returns the FHIRPath-ish location. */
function checkKeys(root: unknown): void {
  const stack: [unknown, string][] = [[root, '']];
  while (stack.length) {
    const [node, path] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      node.forEach((v, i) => stack.push([v, `${path}[${i}]`]));
      continue;
    }
    for (const key of Object.keys(node)) {
      const where = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) throw badRequest(`The key "${key}" is not allowed`, where);
      stack.push([(node as Record<string, unknown>)[key], where]);
    }
  }
}

/** Parses a JSON request body with the safety checks above. */
export function parseJsonBody(buf: Buffer, maxDepth: number): unknown {
  const text = decodeUtf8(buf);
  if (!text.trim()) throw badRequest('The request body is empty');
  if (jsonDepth(text, maxDepth) > maxDepth) throw badRequest(`The JSON is nested deeper than ${maxDepth} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the body; only the position is safe to repeat.
    const pos = /position (\d+)/.exec((err as Error).message)?.[1];
    throw badRequest(`The request body is not valid JSON${pos ? ` (at character ${pos})` : ''}`);
  }
  checkKeys(value);
  return value;
}
