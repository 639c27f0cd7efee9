/**
 * Unique Identifier Codes (UICs): field recipes such as "first two letters of the mother's
 * first name + first two of the father's + birth date" that let programmes de-duplicate
 * clients without names. A UIC is built from facts about a real person and its space is
 * small, so in clear it is nearly as identifying as a name: it is never stored or logged,
 * only its keyed hash. The key is what stops an attacker with the database from simply
 * enumerating every plausible recipe, so it lives in configuration, never beside the data.
 */
import { createHmac } from 'node:crypto';
import { badRequest } from '../fhir/outcome';

/** FHIRPath of the UIC parameter in the `Parameters` body of operations that accept one. */
export const UIC_PARAMETER_EXPRESSION = "Parameters.parameter.where(name = 'uic')";

/** Shortest pseudonym key accepted: 256 bits, so the key is never the weak link of HMAC-SHA256. */
export const MIN_PSEUDONYM_KEY_BYTES = 32;

const MIN_UIC_LENGTH = 4;
const MAX_UIC_LENGTH = 64;

// Field workers write the same recipe with spaces, dashes, dots, slashes or underscores
// between the parts; none of these carry meaning, so they must not change the hash.
const IGNORED = /[\s\p{Pd}./_]/gu;

/**
 * Reduces a UIC to its canonical form (A-Z0-9, 4-64 chars); throws a 400 whose diagnostics
 * never contain the value.
 */
export function normalizeUic(raw: string, expression: string = UIC_PARAMETER_EXPRESSION): string {
  if (typeof raw !== 'string') throw badRequest('The UIC must be a string', expression);
  // NFKD splits accented letters into base letter + mark so "Hélène" and "HELENE" agree, and
  // folds compatibility forms (full-width digits, ligatures) into plain ASCII.
  const folded = raw.normalize('NFKD').replace(/\p{M}/gu, '').toUpperCase().replace(IGNORED, '');
  if (folded.length < MIN_UIC_LENGTH || folded.length > MAX_UIC_LENGTH || !/^[A-Z0-9]+$/.test(folded)) {
    // Deliberately vague: echoing the value, or even which character failed, would put
    // part of a person's identity in logs and error responses.
    throw badRequest(
      `The UIC must contain ${MIN_UIC_LENGTH} to ${MAX_UIC_LENGTH} letters A-Z or digits after removing ` +
        'accents, spaces, hyphens, dots, slashes and underscores',
      expression,
    );
  }
  return folded;
}

/** HMAC-SHA256 of the normalized UIC under the pseudonym key, as lower-case hex. */
export function uicHash(raw: string, key: Buffer): string {
  // A short or missing key would turn the hash into a lookup table for anyone with the data.
  if (!Buffer.isBuffer(key) || key.length < MIN_PSEUDONYM_KEY_BYTES) {
    throw new Error(`Pseudonym key must be at least ${MIN_PSEUDONYM_KEY_BYTES} bytes`);
  }
  return createHmac('sha256', key).update(normalizeUic(raw), 'utf8').digest('hex');
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * Decodes the pseudonym key from configuration (hex or base64, at least 32 bytes); throws an
 * Error naming the problem but never the key.
 */
export function parsePseudonymKey(value: string): Buffer {
  const text = typeof value === 'string' ? value.trim() : '';
  if (!text) throw new Error('Pseudonym key is empty: set it to at least 32 random bytes in hex or base64');
  let key: Buffer;
  // Hex digits are also base64 characters; an even-length all-hex string is read as hex
  // because that is what `openssl rand -hex 32` produces. A real base64 key of 32+ bytes
  // is all-hex by chance with negligible probability.
  if (HEX.test(text)) {
    key = Buffer.from(text, 'hex');
  } else if (BASE64.test(text) || BASE64URL.test(text)) {
    const bare = text.replace(/=+$/, '');
    // Node's decoder skips characters it does not understand; the round trip proves the
    // text was canonical base64 rather than something that merely resembled it.
    if (bare.length % 4 === 1) throw new Error('Pseudonym key is not valid base64 (truncated?)');
    const encoding = BASE64.test(text) ? 'base64' : 'base64url';
    key = Buffer.from(bare, encoding);
    const back = key.toString(encoding).replace(/=+$/, '');
    if (back !== bare) throw new Error('Pseudonym key is not valid base64');
  } else {
    throw new Error('Pseudonym key must be hex or base64 (e.g. the output of `openssl rand -base64 32`)');
  }
  if (key.length < MIN_PSEUDONYM_KEY_BYTES) {
    throw new Error(`Pseudonym key must be at least ${MIN_PSEUDONYM_KEY_BYTES} bytes, got ${key.length}`);
  }
  // A key of one repeated byte is a placeholder someone forgot to replace, not a secret.
  if (key.every((b) => b === key[0])) {
    throw new Error('Pseudonym key is a repeated single byte (a placeholder?): generate a random key');
  }
  return key;
}
