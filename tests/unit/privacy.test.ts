import { randomBytes } from 'node:crypto';
import type { Observation, Patient, RelatedPerson, Resource } from '@medplum/fhirtypes';
import {
  CLIENT_CODE_BITS,
  CLIENT_CODE_SYSTEM,
  isValidClientCode,
  newClientCode,
  normalizeClientCode,
} from '../../src/privacy/client-code';
import { piiIssues } from '../../src/privacy/pii-guard';
import { normalizeUic, parsePseudonymKey, uicHash, UIC_PARAMETER_EXPRESSION } from '../../src/privacy/uic';
import { OperationOutcomeError } from '../../src/fhir/outcome';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const FORMAT = /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{3}$/;

describe('client codes', () => {
  test('constants', () => {
    expect(CLIENT_CODE_SYSTEM).toBe('https://linkcare.example.org/fhir/sid/client-code');
    expect(CLIENT_CODE_BITS).toBe(50);
  });

  test('100,000 draws are unique, well-formed and valid', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const code = newClientCode();
      if (!FORMAT.test(code) || !isValidClientCode(code)) throw new Error(`bad code ${code}`);
      seen.add(code);
    }
    expect(seen.size).toBe(100_000);
  });

  test('every symbol of the alphabet occurs in every payload position', () => {
    const perPosition = Array.from({ length: 10 }, () => new Set<string>());
    for (let i = 0; i < 5_000; i++) {
      const compact = newClientCode().replace(/-/g, '');
      for (let p = 0; p < 10; p++) perPosition[p]!.add(compact[p]!);
    }
    for (const symbols of perPosition) expect(symbols.size).toBe(32);
  });

  test('normalization round-trips the forms people type', () => {
    for (let i = 0; i < 200; i++) {
      const code = newClientCode();
      const compact = code.replace(/-/g, '');
      expect(normalizeClientCode(code)).toBe(code);
      expect(normalizeClientCode(code.toLowerCase())).toBe(code);
      expect(normalizeClientCode(compact)).toBe(code);
      expect(normalizeClientCode(compact.toLowerCase())).toBe(code);
      expect(normalizeClientCode(`  ${compact.slice(0, 3)} ${compact.slice(3, 7)}--${compact.slice(7)} `)).toBe(code);
      expect(normalizeClientCode(code.replace(/-/g, '\u2013'))).toBe(code);
      const confused = code.replace(/0/g, () => (Math.random() < 0.5 ? 'O' : 'o')).replace(/1/g, () => 'IiLl'[Math.floor(Math.random() * 4)]!);
      expect(normalizeClientCode(confused)).toBe(code);
    }
  });

  test('canonical form is required by isValidClientCode', () => {
    const code = newClientCode();
    expect(isValidClientCode(code)).toBe(true);
    expect(isValidClientCode(code.toLowerCase())).toBe(false);
    expect(isValidClientCode(code.replace(/-/g, ''))).toBe(false);
  });

  test.each([
    ['', 'empty'],
    ['K7Q4-2MX9-PA', 'too short'],
    ['K7Q4-2MX9-PA88', 'too long'],
    ['K7Q4-2MX9-PAU', 'U is not in the alphabet'],
    ['K7Q4-2MX9-P*8', 'symbol outside the alphabet'],
    ['K7Q4-2MX9-PÅ8', 'non-ASCII letter'],
    ['0'.repeat(200), 'oversized input'],
  ])('rejects %p (%s)', (input) => {
    expect(normalizeClientCode(input)).toBeUndefined();
    expect(isValidClientCode(input)).toBe(false);
  });

  test('all-zero payload has a valid check and wrong checks fail', () => {
    expect(normalizeClientCode('0000-0000-000')).toBe('0000-0000-000');
    for (const ch of ALPHABET.slice(1)) expect(normalizeClientCode(`0000-0000-00${ch}`)).toBeUndefined();
  });

  test('every single substitution and adjacent transposition of 2,000 codes is rejected', () => {
    let substitutions = 0;
    let transpositions = 0;
    for (let n = 0; n < 2_000; n++) {
      const compact = newClientCode().replace(/-/g, '');
      for (let p = 0; p < compact.length; p++) {
        for (const ch of ALPHABET) {
          if (ch === compact[p]) continue;
          const wrong = compact.slice(0, p) + ch + compact.slice(p + 1);
          if (normalizeClientCode(wrong) !== undefined) throw new Error(`substitution accepted: ${compact} -> ${wrong}`);
          substitutions++;
        }
      }
      for (let p = 0; p + 1 < compact.length; p++) {
        if (compact[p] === compact[p + 1]) continue;
        const swapped = compact.slice(0, p) + compact[p + 1] + compact[p] + compact.slice(p + 2);
        if (normalizeClientCode(swapped) !== undefined) throw new Error(`transposition accepted: ${compact} -> ${swapped}`);
        transpositions++;
      }
    }
    expect(substitutions).toBe(2_000 * 11 * 31);
    expect(transpositions).toBeGreaterThan(2_000 * 9);
  });

  test('every adjacent transposition of every symbol pair is caught at every position', () => {
    // Exhaustive over pairs rather than sampled: 32 × 31 ordered pairs at each of the 9
    // payload positions, plus every last-payload-symbol/check-symbol swap.
    let tried = 0;
    for (let p = 0; p < 10; p++) {
      for (const a of ALPHABET) {
        for (const b of p < 9 ? ALPHABET : '0') {
          const payload = '0'.repeat(p) + a + (p < 9 ? b : '') + '0'.repeat(Math.max(0, 8 - p));
          const compact = validCodeFor(payload).replace(/-/g, '');
          if (compact[p] === compact[p + 1]) continue;
          const swapped = compact.slice(0, p) + compact[p + 1] + compact[p] + compact.slice(p + 2);
          expect(normalizeClientCode(swapped)).toBeUndefined();
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThanOrEqual(9 * 32 * 31 + 31);
  });
});

/** Finds the one check symbol that makes a payload valid (used to build codes with chosen content). */
function validCodeFor(payload: string): string {
  expect(payload).toHaveLength(10);
  const found = [...ALPHABET].map((c) => normalizeClientCode(payload + c)).filter((c): c is string => c !== undefined);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('UIC', () => {
  const key = randomBytes(32);

  test.each([
    ['mari-jo 12/03/1990', 'MARIJO12031990'],
    ['Hélène_ça.91', 'HELENECA91'],
    ['  abcd  ', 'ABCD'],
    ['ＡＢ１２', 'AB12'],
    ['jo\u2013se\t85', 'JOSE85'],
  ])('normalizes %p to %p', (raw, expected) => {
    expect(normalizeUic(raw)).toBe(expected);
  });

  test('accents, spaces, separators and case give the same hash', () => {
    const h = uicHash('MAJO-12-03-1990', key);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(uicHash('ma jo 12.03.1990', key)).toBe(h);
    expect(uicHash('Mâjo_12/03/1990', key)).toBe(h);
  });

  test('a different UIC or a different key gives a different hash', () => {
    expect(uicHash('MAJO12031990', key)).not.toBe(uicHash('MAJO12031991', key));
    expect(uicHash('MAJO12031990', key)).not.toBe(uicHash('MAJO12031990', randomBytes(32)));
  });

  test('refuses a short key', () => {
    expect(() => uicHash('MAJO12031990', randomBytes(16))).toThrow(/32 bytes/);
  });

  test.each([
    ['AB1', 'too short'],
    ['A-B.1', 'too short after stripping'],
    ['A'.repeat(65), 'too long'],
    ['MAJO#1990', 'symbol'],
    ['МАЖО1990', 'Cyrillic'],
    ['', 'empty'],
  ])('refuses %p (%s) with a 400 that does not echo it', (raw) => {
    let caught: unknown;
    try {
      uicHash(raw, key);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(OperationOutcomeError);
    const err = caught as OperationOutcomeError;
    expect(err.status).toBe(400);
    const issue = err.outcome.issue![0]!;
    expect(issue.code).toBe('invalid');
    expect(issue.expression).toEqual([UIC_PARAMETER_EXPRESSION]);
    const text = JSON.stringify(err.outcome) + err.message;
    if (raw.length > 0) {
      expect(text).not.toContain(raw);
      expect(text.toUpperCase()).not.toContain(raw.toUpperCase().replace(/[-.]/g, ''));
    }
  });
});

describe('parsePseudonymKey', () => {
  const bytes = randomBytes(32);

  test('accepts hex, base64 and base64url of 32+ bytes', () => {
    expect(parsePseudonymKey(bytes.toString('hex')).equals(bytes)).toBe(true);
    expect(parsePseudonymKey(bytes.toString('hex').toUpperCase()).equals(bytes)).toBe(true);
    expect(parsePseudonymKey(bytes.toString('base64')).equals(bytes)).toBe(true);
    expect(parsePseudonymKey(bytes.toString('base64url')).equals(bytes)).toBe(true);
    expect(parsePseudonymKey(`  ${bytes.toString('base64')}\n`).equals(bytes)).toBe(true);
    const long = randomBytes(64);
    expect(parsePseudonymKey(long.toString('base64')).equals(long)).toBe(true);
  });

  test.each([
    ['', /empty/],
    ['   ', /empty/],
    [randomBytes(31).toString('hex'), /at least 32 bytes, got 31/],
    [randomBytes(16).toString('base64'), /at least 32 bytes, got 16/],
    ['not a key! at all, really not one', /hex or base64/],
    ['00'.repeat(32), /repeated single byte/],
    [`${'A'.repeat(43)}=`, /repeated single byte/],
    [`${randomBytes(32).toString('base64').slice(0, 40)}%%%=`, /hex or base64/],
    [`${randomBytes(32).toString('base64').slice(0, 42)}B=`, /not valid base64/],
  ])('refuses %p', (value, message) => {
    expect(() => parsePseudonymKey(value)).toThrow(message);
  });

  test('error messages never contain the key', () => {
    const short = randomBytes(20).toString('base64');
    try {
      parsePseudonymKey(short);
      throw new Error('expected a throw');
    } catch (e) {
      expect((e as Error).message).not.toContain(short);
    }
  });
});

describe('PII guard', () => {
  const strict = { allowBirthMonth: false };
  const lenient = { allowBirthMonth: true };
  const code = { system: CLIENT_CODE_SYSTEM, value: newClientCode() };
  const clean: Patient = { resourceType: 'Patient', identifier: [code], gender: 'female', birthDate: '1994' };

  test('a clean patient with a client code passes', () => {
    expect(piiIssues(clean, strict)).toEqual([]);
    expect(piiIssues({ ...clean, communication: [{ language: { text: 'pt' } }], active: true }, strict)).toEqual([]);
  });

  test.each<[string, string, Partial<Patient> & Record<string, unknown>]>([
    ['name', 'Patient.name', { name: [{ text: 'Ana' }] }],
    ['_name', 'Patient.name', { _name: { extension: [{ url: 'x', valueString: 'Ana' }] } }],
    ['telecom', 'Patient.telecom', { telecom: [{ system: 'phone', value: '+15550100' }] }],
    ['address', 'Patient.address', { address: [{ city: 'Maputo' }] }],
    ['photo', 'Patient.photo', { photo: [{ contentType: 'image/jpeg', data: 'AAAA' }] }],
    ['contact', 'Patient.contact', { contact: [{ relationship: [{ text: 'sister' }] }] }],
    ['full birthDate', 'Patient.birthDate', { birthDate: '1994-05-17' }],
    ['year-month birthDate', 'Patient.birthDate', { birthDate: '1994-05' }],
    ['biometric extension', 'Patient.extension[0]', { extension: [{ url: 'https://x.example/Biometric-Template', valueString: 'x' }] }],
    ['fingerprint modifierExtension', 'Patient.modifierExtension[0]', { modifierExtension: [{ url: 'urn:FINGERPRINT', valueString: 'x' }] }],
    ['mothers maiden name', 'Patient.extension[1]', { extension: [{ url: 'x' }, { url: 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName', valueString: 'x' }] }],
    ['birth time on _birthDate', 'Patient.birthDate.extension[0]', { _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1994-05-17T10:00:00Z' }] } }],
    ['nested biometric extension', 'Patient.identifier[0].extension[0]', { identifier: [{ ...code, extension: [{ url: 'biometric-hash' }] }] }],
  ])('%s → exactly one issue at %s', (_label, expression, extra) => {
    const issues = piiIssues({ ...clean, ...extra } as Patient, strict);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'error', code: 'business-rule', expression: [expression] });
  });

  test.each(['NI', 'NN', 'PPN', 'SS', 'DL', 'NH', 'SB', 'CZ'])('identifier type %s is refused', (typeCode) => {
    const secret = 'AB1234567';
    const patient: Patient = {
      ...clean,
      identifier: [code, { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: typeCode }] }, value: secret }],
    };
    const issues = piiIssues(patient, strict);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'business-rule', expression: ['Patient.identifier[1]'] });
    expect(JSON.stringify(issues)).not.toContain(secret);
  });

  test('other identifier types and other code systems are allowed', () => {
    const patient: Patient = {
      ...clean,
      identifier: [
        code,
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: 'x' },
        { type: { coding: [{ system: 'http://example.org/other', code: 'PPN' }] }, value: 'x' },
      ],
    };
    expect(piiIssues(patient, strict)).toEqual([]);
  });

  test('birthDate rules', () => {
    expect(piiIssues({ ...clean, birthDate: '1994' }, strict)).toEqual([]);
    expect(piiIssues({ ...clean, birthDate: '1994-05' }, lenient)).toEqual([]);
    expect(piiIssues({ ...clean, birthDate: '1994-05' }, strict)[0]!.diagnostics).toMatch(/year only/);
    const full = piiIssues({ ...clean, birthDate: '1994-05-17' }, lenient);
    expect(full).toHaveLength(1);
    expect(full[0]!.diagnostics).toMatch(/YYYY-MM/);
    expect(piiIssues({ ...clean, birthDate: '1994-13' }, lenient)).toHaveLength(1);
    const { birthDate: _omit, ...noBirth } = clean;
    expect(piiIssues(noBirth, strict)).toEqual([]);
  });

  test('diagnostics never echo values', () => {
    const patient = {
      ...clean,
      birthDate: '1994-05-17',
      name: [{ family: 'Zyxwvut' }],
      telecom: [{ value: '+15550100' }],
      address: [{ line: ['Rua Secreta 9'] }],
    } as Patient;
    const issues = piiIssues(patient, strict);
    expect(issues).toHaveLength(4);
    const text = JSON.stringify(issues);
    for (const value of ['1994-05-17', 'Zyxwvut', '+15550100', 'Rua Secreta']) expect(text).not.toContain(value);
  });

  test('several problems give one issue each', () => {
    const patient = { ...clean, name: [{ text: 'a' }], photo: [{}], contact: [{}] } as Patient;
    expect(piiIssues(patient, strict).map((i) => i.expression![0])).toEqual(['Patient.name', 'Patient.photo', 'Patient.contact']);
  });

  test.each([
    ['name', { name: [{ text: 'Ana' }] }],
    ['telecom', { telecom: [{ value: '1' }] }],
    ['address', { address: [{ city: 'x' }] }],
    ['photo', { photo: [{}] }],
  ])('RelatedPerson.%s is refused', (element, extra) => {
    const rp = { resourceType: 'RelatedPerson', patient: { reference: 'Patient/1' }, ...extra } as RelatedPerson;
    const issues = piiIssues(rp, strict);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.expression).toEqual([`RelatedPerson.${element}`]);
  });

  test('RelatedPerson identifiers and birth dates follow the patient rules', () => {
    const rp: RelatedPerson = {
      resourceType: 'RelatedPerson',
      patient: { reference: 'Patient/1' },
      relationship: [{ text: 'partner' }],
      birthDate: '1990-01-01',
      identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PPN' }] }, value: 'x' }],
    };
    expect(piiIssues(rp, strict).map((i) => i.expression![0])).toEqual(['RelatedPerson.identifier[0]', 'RelatedPerson.birthDate']);
    expect(piiIssues({ resourceType: 'RelatedPerson', patient: { reference: 'Patient/1' } }, strict)).toEqual([]);
  });

  test('Observation is untouched, even with name-like or biometric-looking content', () => {
    const obs = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'HIV test' },
      subject: { reference: 'Patient/1', display: 'client' },
      extension: [{ url: 'https://x.example/biometric', valueString: 'x' }],
      valueString: 'name',
    } as Observation;
    expect(piiIssues(obs, strict)).toEqual([]);
  });

  test('a person contained in another resource is checked too', () => {
    const obs = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'HIV test' },
      contained: [{ resourceType: 'Patient', id: 'p', name: [{ text: 'Ana' }] }],
    } as Observation;
    expect(piiIssues(obs, strict).map((i) => i.expression![0])).toEqual(['Observation.contained[0].name']);
    const patient = { ...clean, contained: [{ resourceType: 'RelatedPerson', patient: { reference: '#' }, telecom: [{}] }] } as Patient;
    expect(piiIssues(patient, strict).map((i) => i.expression![0])).toEqual(['Patient.contained[0].telecom']);
  });

  test('non-object input yields no issues', () => {
    expect(piiIssues(null as unknown as Resource, strict)).toEqual([]);
  });
});
