/**
 * JSON Patch (RFC 6902, https://www.rfc-editor.org/rfc/rfc6902) applied to a copy of a resource.
 * A malformed patch document is a 400; a patch that cannot apply (failed test, missing path) a 422.
 */
import { badRequest, unprocessable } from './outcome';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Container = Json[] | { [k: string]: Json };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

interface Operation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
}

/** Splits a JSON Pointer (RFC 6901) into unescaped tokens. */
function pointer(path: string, where: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`JSON Pointer "${path}" must start with "/"`, where);
  const tokens = path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (const t of tokens) if (FORBIDDEN_KEYS.has(t)) throw badRequest(`JSON Pointer "${path}" uses a forbidden key`, where);
  return tokens;
}

function parseOps(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) throw badRequest('A JSON Patch document is an array of operations');
  return patch.map((raw, i) => {
    const where = `[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw badRequest('Each patch operation must be an object', where);
    const op = raw as Partial<Operation>;
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op.op as string)) {
      throw badRequest(`Unknown patch op "${String(op.op)}"`, `${where}.op`);
    }
    if (typeof op.path !== 'string') throw badRequest('A patch operation needs a string path', `${where}.path`);
    if ((op.op === 'move' || op.op === 'copy') && typeof op.from !== 'string') {
      throw badRequest(`"${op.op}" needs a string from`, `${where}.from`);
    }
    if ((op.op === 'add' || op.op === 'replace' || op.op === 'test') && !('value' in op)) {
      throw badRequest(`"${op.op}" needs a value`, `${where}.value`);
    }
    return op as Operation;
  });
}

function arrayIndex(arr: Json[], token: string, forAdd: boolean, path: string): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw unprocessable(`"${token}" is not an array index in ${path}`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw unprocessable(`Index ${i} is out of range in ${path}`);
  return i;
}

/** Walks to the parent container of the pointer's last token. */
function parentOf(doc: Json, tokens: string[], path: string): { parent: Container; key: string } {
  let node: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, t, false, path)]!;
    else if (node && typeof node === 'object' && Object.prototype.hasOwnProperty.call(node, t)) node = node[t]!;
    else throw unprocessable(`Path ${path} does not exist`);
  }
  if (node === null || typeof node !== 'object') throw unprocessable(`Path ${path} does not exist`);
  return { parent: node, key: tokens[tokens.length - 1]! };
}

function get(doc: Json, path: string): Json {
  const tokens = pointer(path, 'path');
  if (!tokens.length) return doc;
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, key, false, path)]!;
  if (!Object.prototype.hasOwnProperty.call(parent, key)) throw unprocessable(`Path ${path} does not exist`);
  return parent[key]!;
}

function remove(doc: Json, path: string): Json {
  const { parent, key } = parentOf(doc, pointer(path, 'path'), path);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, false, path), 1)[0]!;
  if (!Object.prototype.hasOwnProperty.call(parent, key)) throw unprocessable(`Path ${path} does not exist`);
  const old = parent[key]!;
  delete parent[key];
  return old;
}

function add(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = pointer(path, 'path');
  if (!tokens.length) return value;
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, !replace, path);
    parent.splice(i, replace ? 1 : 0, value);
  } else {
    if (replace && !Object.prototype.hasOwnProperty.call(parent, key)) throw unprocessable(`Path ${path} does not exist`);
    parent[key] = value;
  }
  return doc;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Applies `patch` to a deep copy of `target` and returns the result. */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  let doc = clone(target) as Json;
  for (const op of parseOps(patch)) {
    switch (op.op) {
      case 'add':
        doc = add(doc, op.path, clone(op.value!), false);
        break;
      case 'replace':
        doc = add(doc, op.path, clone(op.value!), true);
        break;
      case 'remove':
        remove(doc, op.path);
        break;
      case 'move': {
        if (op.path.startsWith(`${op.from}/`)) throw unprocessable(`Cannot move ${op.from} into itself`);
        const value = remove(doc, op.from!);
        doc = add(doc, op.path, value, false);
        break;
      }
      case 'copy':
        doc = add(doc, op.path, clone(get(doc, op.from!)), false);
        break;
      case 'test':
        if (JSON.stringify(get(doc, op.path)) !== JSON.stringify(op.value)) throw unprocessable(`Patch test failed at ${op.path}`);
        break;
    }
  }
  return doc;
}
