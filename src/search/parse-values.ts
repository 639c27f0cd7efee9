/**
 * Parsing one search value by parameter type (http://hl7.org/fhir/R4/search.html#ptypes).
 * Each parser throws a 400 naming the parameter when the value is not of its type's form.
 */
import { badRequest } from '../fhir/outcome';
import type { ParamDef } from './registry';
import type { Modifier, NumberValue, ParamValue, Prefix, QuantityValue, ReferenceValue, TokenValue } from './plan';
import { parseDateRange } from './ranges';
import { normalizeString } from './index-rows';

const PREFIXES: readonly Prefix[] = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

/** Splits `gt2024-01-01` into prefix and value; a bare value means `eq`. */
export function splitPrefix(value: string): { prefix: Prefix; rest: string } {
  const p = value.slice(0, 2) as Prefix;
  if (PREFIXES.includes(p) && /^[a-z]{2}[-+.\d]/.test(value)) return { prefix: p, rest: value.slice(2) };
  return { prefix: 'eq', rest: value };
}

/** Splits on a separator not escaped with a backslash, unescaping `\,` `\|` `\$` `\\`. */
export function splitEscaped(value: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) cur += value[++i];
    else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Splits alternatives on unescaped commas, keeping other escapes for the type parser. */
export function splitOr(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && value[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** `system|code`, `|code`, `system|`, `code`. */
export function parseToken(raw: string): TokenValue {
  const parts = splitEscaped(raw, '|');
  if (parts.length === 1) return { code: parts[0] };
  if (parts.length !== 2) throw new Error('too many |');
  const [system, code] = parts as [string, string];
  return { system: system === '' ? null : system, ...(code !== '' ? { code } : {}) };
}

/** A decimal and the [low, high) its written precision stands for (http://hl7.org/fhir/R4/search.html#number). */
export function parseNumber(prefix: Prefix, raw: string): NumberValue | undefined {
  const m = /^([-+]?)(\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/.exec(raw);
  if (!m) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) return undefined;
  const exponent = m[4] ? Number(m[4]) : 0;
  const decimals = (m[3]?.length ?? 0) - exponent;
  const half = 0.5 * 10 ** -decimals;
  return { prefix, value, low: value - half, high: value + half };
}

function parseQuantity(prefix: Prefix, raw: string): QuantityValue | undefined {
  const parts = splitEscaped(raw, '|');
  if (parts.length !== 1 && parts.length !== 3) return undefined;
  const num = parseNumber(prefix, parts[0]!);
  if (!num) return undefined;
  const system = parts[1] || undefined;
  const code = parts[2] || undefined;
  return { ...num, ...(system ? { system } : {}), ...(code ? { code } : {}) };
}

/** Reference values: `Type/id`, `id`, a URL on this server, another absolute URL. */
function parseReference(raw: string, def: ParamDef, modifier: Modifier | undefined, typeModifier: string | undefined, baseUrl: string): ReferenceValue {
  if (modifier === 'identifier') return { identifier: parseToken(raw) };
  let value = raw;
  if (value.startsWith(`${baseUrl}/`)) value = value.slice(baseUrl.length + 1);
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) return { url: value.split('|')[0]! };
  const parts = value.split('/');
  if (parts.length === 1) return { id: parts[0]!, ...(typeModifier ? { targetType: typeModifier } : {}) };
  if (parts.length === 2 || (parts.length === 4 && parts[2] === '_history')) {
    const [targetType, id] = parts as [string, string];
    if (def.targets.length && !def.targets.includes(targetType)) {
      throw badRequest(`${def.code} cannot point at a ${targetType}`, def.code);
    }
    return { targetType, id };
  }
  throw new Error('not a reference');
}

/**
 * Parses one alternative of `def` under `modifier`. `typeModifier` carries `:Patient` style
 * reference type modifiers. Throws 400 naming `name` when the value is malformed.
 */
export function parseValue(def: ParamDef, name: string, raw: string, modifier: Modifier | undefined, typeModifier: string | undefined, baseUrl: string): ParamValue {
  try {
    switch (def.type) {
      case 'token': {
        if (modifier === 'text') return { type: 'token', token: {}, text: normalizeString(raw) };
        if (modifier === 'in' || modifier === 'not-in') return { type: 'token', token: {}, valueSetUrl: raw };
        if (modifier === 'of-type') {
          const parts = splitEscaped(raw, '|');
          if (parts.length !== 3 || !parts[2]) throw new Error('of-type needs system|code|value');
          return { type: 'token', token: {}, ofType: { system: parts[0] || null, code: parts[1], value: parts[2] } };
        }
        const token = parseToken(raw);
        if (token.code === undefined && token.system == null) throw new Error('empty token');
        return { type: 'token', token };
      }
      case 'string': {
        const value = modifier === 'exact' ? splitEscaped(raw, '\u0000')[0]! : normalizeString(splitEscaped(raw, '\u0000')[0]!);
        if (!value) throw new Error('empty string');
        return { type: 'string', value };
      }
      case 'reference':
        return { type: 'reference', ref: parseReference(raw, def, modifier, typeModifier, baseUrl) };
      case 'date': {
        const { prefix, rest } = splitPrefix(raw);
        const range = parseDateRange(rest);
        if (!range) throw new Error('not a date');
        return { type: 'date', prefix, range };
      }
      case 'number': {
        const { prefix, rest } = splitPrefix(raw);
        const num = parseNumber(prefix, rest);
        if (!num) throw new Error('not a number');
        return { type: 'number', num };
      }
      case 'quantity': {
        const { prefix, rest } = splitPrefix(raw);
        const qty = parseQuantity(prefix, rest);
        if (!qty) throw new Error('not a quantity');
        return { type: 'quantity', qty };
      }
      case 'uri':
        if (!raw) throw new Error('empty uri');
        return { type: 'uri', value: raw };
      case 'composite': {
        const parts = splitEscaped(raw, '$');
        const comps = def.components ?? [];
        if (parts.length !== comps.length) throw new Error(`needs ${comps.length} components joined by $`);
        return { type: 'composite', components: comps.map((c, i) => parseValue(c.def, name, parts[i]!, undefined, undefined, baseUrl)) };
      }
      default:
        throw new Error('unsupported type');
    }
  } catch (err) {
    if (err instanceof Error && err.name === 'OperationOutcomeError') throw err;
    throw badRequest(`"${raw}" is not a valid ${def.type} value for ${name}${err instanceof Error ? ` (${err.message})` : ''}`, name);
  }
}
