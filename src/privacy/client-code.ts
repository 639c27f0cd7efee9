/**
 * Pseudonymous client codes, printed on the paper card a client carries between services.
 *
 * A code is the only handle staff have on a client, so it must carry no information about
 * the person: it is drawn from the CSPRNG and never derived from names, dates or phone
 * numbers. It must also survive being read aloud, handwritten and retyped, hence Crockford's
 * base32 alphabet (no I, L, O or U) and a check symbol that catches the usual slips.
 *
 * Collision maths: 10 random symbols give 2^50 codes. With n clients the chance that any two
 * share a code is about n² / 2^51 (birthday bound); for n = 10 million that is
 * 10^14 / 2.25·10^15 ≈ 4.4 %. That is far too high to ignore, so callers MUST rely on a
 * unique index and draw a fresh code on conflict. Two clients that happen to draw the same
 * code are different people; merging them would leak one person's records to another.
 */
import { randomBytes } from 'node:crypto';

/** Identifier.system URI under which client codes are stored on Patient.identifier. */
export const CLIENT_CODE_SYSTEM = 'https://linkcare.example.org/fhir/sid/client-code';

/** Bits of randomness in a client code (10 symbols × 5 bits); the check symbol adds none. */
export const CLIENT_CODE_BITS = 50;

/**
 * Key of a client's code in a unit of work's memo (StoreTx.memo): a write that has just read the
 * client's Patient leaves the code there, so the audit trail of the same unit names the client
 * without reading and parsing the Patient again.
 */
export const clientCodeMemoKey = (patientId: string): string => `client-code:${patientId}`;

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const PAYLOAD_SYMBOLS = 10;
const CODE_SYMBOLS = PAYLOAD_SYMBOLS + 1;
// 4-4-3 keeps every group short enough to hold in memory while copying, and the dash
// positions fixed so a misplaced group is visible at a glance.
const GROUPS = [4, 4, 3] as const;

const VALUE_OF: ReadonlyMap<string, number> = new Map(
  [...ALPHABET].map((ch, i) => [ch, i] as [string, number]).concat([
    // Crockford's decoding rules: letters that look like digits are read as those digits.
    ['O', 0],
    ['I', 1],
    ['L', 1],
  ]),
);

/*
 * Check symbol: the Damm algorithm over a totally anti-symmetric quasigroup of order 32,
 * built on the field GF(2^5) as x ∘ y = 2·x + y (x the running interim, y the next symbol).
 *
 * Why not Crockford's mod-37 check: it needs five extra symbols (* ~ $ = U) that are awkward
 * to write on a card, read over the phone or type on a feature phone, and it reintroduces U.
 * Why not Luhn mod N: it misses some adjacent transpositions (the pair 0 ↔ N-1).
 * Damm keeps the check inside the 32-symbol alphabet and, because the operation is a
 * quasigroup (each row is a permutation) that is totally anti-symmetric
 * ((c∘x)∘y = (c∘y)∘x ⇒ x = y, since 2·(x−y) + (y−x) = 3·(x−y) and 3 ≠ 0 in GF(32)),
 * it detects every single-symbol substitution and every adjacent transposition, including
 * those that involve the check symbol itself. The tests verify both properties exhaustively
 * over a sample of codes.
 */

// Reduction polynomial x^5 + x^2 + 1: irreducible over GF(2), so the 32 residues form a field.
const REDUCE = 0b100101;

function times2(x: number): number {
  const shifted = x << 1;
  return shifted & 0b100000 ? shifted ^ REDUCE : shifted;
}

function dammInterim(values: readonly number[]): number {
  let interim = 0;
  for (const v of values) interim = times2(interim) ^ v;
  return interim;
}

/** Computes the check symbol value that brings the Damm interim of `payload` back to zero. */
function checkValue(payload: readonly number[]): number {
  // Appending c gives 2·interim + c; in characteristic 2 that is zero exactly when c = 2·interim.
  return times2(dammInterim(payload));
}

function format(values: readonly number[]): string {
  const symbols = values.map((v) => ALPHABET[v]!).join('');
  const parts: string[] = [];
  let at = 0;
  for (const size of GROUPS) {
    parts.push(symbols.slice(at, at + size));
    at += size;
  }
  return parts.join('-');
}

/** Draws a new random client code in canonical `XXXX-XXXX-XXX` form. */
export function newClientCode(): string {
  // 256 is a multiple of 32, so masking each byte to 5 bits keeps every symbol uniform.
  const bytes = randomBytes(PAYLOAD_SYMBOLS);
  const payload = [...bytes].map((b) => b & 0b11111);
  return format([...payload, checkValue(payload)]);
}

// Separators people type or paste: spaces, ASCII hyphen and the Unicode dash family
// (word processors silently turn hyphens into en dashes).
const SEPARATORS = /[\s\p{Pd}]/gu;
// Generous bound so a pasted paragraph is rejected before any per-character work.
const MAX_INPUT_LENGTH = 64;

/**
 * Parses a client code as typed by a person; returns the canonical grouped form, or
 * undefined when the length, alphabet or check symbol is wrong.
 */
export function normalizeClientCode(input: string): string | undefined {
  if (typeof input !== 'string' || input.length > MAX_INPUT_LENGTH) return undefined;
  const compact = input.replace(SEPARATORS, '').toUpperCase();
  if (compact.length !== CODE_SYMBOLS) return undefined;
  const values: number[] = [];
  for (const ch of compact) {
    const v = VALUE_OF.get(ch);
    if (v === undefined) return undefined;
    values.push(v);
  }
  if (dammInterim(values) !== 0) return undefined;
  return format(values);
}

/**
 * True only for a code already in canonical form (what is stored and searched); use
 * normalizeClientCode for human input.
 */
export function isValidClientCode(s: string): boolean {
  return typeof s === 'string' && normalizeClientCode(s) === s;
}
