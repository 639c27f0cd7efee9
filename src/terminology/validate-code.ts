/**
 * The decision of $validate-code: is this code (or coding, or any coding of a CodeableConcept) in
 * the CodeSystem (http://hl7.org/fhir/R4/codesystem-operation-validate-code.html) or the ValueSet
 * (http://hl7.org/fhir/R4/valueset-operation-validate-code.html)? A wrong display makes the answer
 * false, with a message naming the expected display.
 */
import type { CodeSystem, Coding, ValueSet } from '@medplum/fhirtypes';
import { conceptIndex } from './catalog';
import { type TerminologyResolver, expandCompose } from './expand';

/** The answer: `result`, and `message`/`display` when there is something to say. */
export interface CodeCheck {
  result: boolean;
  message?: string;
  display?: string;
}

function displayCheck(coding: Coding, expected: string | undefined, where: string): CodeCheck {
  if (coding.display !== undefined && expected !== undefined && coding.display.trim().toLowerCase() !== expected.trim().toLowerCase()) {
    return { result: false, display: expected, message: `The display "${coding.display}" is not the display of ${coding.system ?? ''}|${coding.code} in ${where}; expected "${expected}"` };
  }
  return { result: true, display: expected };
}

/** Checks one coding against a CodeSystem; a coding of another system is not in it. */
export function checkInCodeSystem(cs: CodeSystem, coding: Coding): CodeCheck {
  const where = `CodeSystem ${cs.url}`;
  if (coding.system !== undefined && coding.system !== cs.url) return { result: false, message: `The system ${coding.system} is not ${where}` };
  const concept = conceptIndex(cs).get(coding.code ?? '');
  if (!concept) {
    const partial = cs.content === 'fragment' ? ' (this server holds only a fragment of it)' : '';
    return { result: false, message: `The code "${coding.code}" is not in ${where}${partial}` };
  }
  return displayCheck(coding, concept.display, where);
}

/** Checks one coding against a ValueSet's expansion. */
export async function checkInValueSet(vs: ValueSet, coding: Coding, resolver: TerminologyResolver): Promise<CodeCheck> {
  const where = `ValueSet ${vs.url}`;
  const codes = await expandCompose(vs, resolver);
  const found = codes.find((c) => c.system === coding.system && c.code === coding.code);
  if (!found) return { result: false, message: `The code ${coding.system}|${coding.code} is not in ${where}` };
  return displayCheck(coding, found.display, where);
}

/** Any coding passing wins; otherwise the first failure explains (CodeableConcept semantics). */
export async function checkAny(codings: Coding[], check: (c: Coding) => Promise<CodeCheck> | CodeCheck): Promise<CodeCheck> {
  let first: CodeCheck | undefined;
  for (const c of codings) {
    const answer = await check(c);
    if (answer.result) return answer;
    first ??= answer;
  }
  return first ?? { result: false, message: 'No coding to check' };
}
