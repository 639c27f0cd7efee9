/**
 * Computed scores of the screening questionnaires: when a QuestionnaireResponse to PHQ-9, GAD-7 or
 * AUDIT-C is completed (or amended), the server checks every answer against the Questionnaire and
 * writes two read-only items the Questionnaire declares: `total-score` (valueInteger) and `severity`
 * (valueCoding from mh-severity). Whatever a client put in those items is replaced; a response in
 * progress carries neither.
 */
import type { Coding, OperationOutcomeIssue, Patient, Questionnaire, QuestionnaireResponse, QuestionnaireResponseItem } from '@medplum/fhirtypes';
import { invalid, issue } from '../fhir/outcome';
import type { WriteRule } from '../fhir/rules';
import type { StoreTx } from '../store/port';
import { PROJECT_BASE, conceptIndex, loadCatalog } from '../terminology/catalog';
import { type Gender, INSTRUMENTS, type Instrument, scoreScreen } from './scoring';

const ANSWER_SYSTEM = `${PROJECT_BASE}/CodeSystem/mh-answer`;
const SEVERITY_SYSTEM = `${PROJECT_BASE}/CodeSystem/mh-severity`;
const COMPUTED = new Set(['total-score', 'severity']);
const SCORED_STATUSES = new Set(['completed', 'amended']);

type QR = QuestionnaireResponse & { id: string };

/** The instrument a canonical names (version ignored), when it is one of the seeded screens. */
export function instrumentOf(canonical: string | undefined): { instrument: Instrument; questionnaire: Questionnaire } | undefined {
  if (!canonical) return undefined;
  const questionnaire = loadCatalog().questionnaires.get(canonical.split('|')[0]!);
  const id = questionnaire?.id as Instrument | undefined;
  return questionnaire && id && id in INSTRUMENTS ? { instrument: id, questionnaire } : undefined;
}

/** Points of an answer coding, from the mh-answer CodeSystem's `score` property. */
function pointsOf(coding: Coding | undefined): number | undefined {
  if (!coding || coding.system !== ANSWER_SYSTEM || !coding.code) return undefined;
  const cs = loadCatalog().codeSystems.get(ANSWER_SYSTEM);
  const concept = cs ? conceptIndex(cs).get(coding.code) : undefined;
  return concept?.property?.find((p) => p.code === 'score')?.valueInteger;
}

/** The item scores of a response, or the issues that stop it being scored. */
function itemScores(qr: QR, questionnaire: Questionnaire): { scores: number[]; issues: OperationOutcomeIssue[] } {
  const questions = (questionnaire.item ?? []).filter((q) => !q.readOnly);
  const byLink = new Map((qr.item ?? []).map((item, i) => [item.linkId, { item, i }]));
  const issues: OperationOutcomeIssue[] = [];
  const scores: number[] = [];
  for (const [i, item] of (qr.item ?? []).entries()) {
    if (!COMPUTED.has(item.linkId!) && !questions.some((q) => q.linkId === item.linkId)) {
      issues.push(issue('value', `Item '${item.linkId}' is not a question of ${questionnaire.url}`, `QuestionnaireResponse.item[${i}].linkId`));
    }
  }
  for (const q of questions) {
    const found = byLink.get(q.linkId);
    if (!found) {
      issues.push(issue('required', `Question '${q.linkId}' has no answer; a completed screen answers every question`, 'QuestionnaireResponse.item'));
      continue;
    }
    const coding = found.item.answer?.length === 1 ? found.item.answer[0]!.valueCoding : undefined;
    const offered = (q.answerOption ?? []).some((o) => o.valueCoding?.system === coding?.system && o.valueCoding?.code === coding?.code);
    const points = offered ? pointsOf(coding) : undefined;
    if (points === undefined) {
      issues.push(issue('value', `Question '${q.linkId}' needs exactly one answer, a valueCoding among its answer options`, `QuestionnaireResponse.item[${found.i}].answer`));
    } else scores.push(points);
  }
  return { scores, issues };
}

async function genderOf(tx: StoreTx, qr: QR): Promise<Gender | undefined> {
  const ref = qr.subject?.reference;
  if (!ref?.startsWith('Patient/')) return undefined;
  const v = await tx.read('Patient', ref.slice('Patient/'.length));
  return (v?.resource as Patient | undefined)?.gender;
}

/** The response with the computed items replaced (or removed while in progress). */
export async function withScores(tx: StoreTx, qr: QR): Promise<QR | undefined> {
  const screen = instrumentOf(qr.questionnaire);
  if (!screen) return undefined;
  const answers = (qr.item ?? []).filter((item) => !COMPUTED.has(item.linkId!));
  if (!SCORED_STATUSES.has(qr.status)) {
    const { item: _item, ...rest } = qr;
    return answers.length ? { ...rest, item: answers } : rest;
  }
  const { scores, issues } = itemScores(qr, screen.questionnaire);
  if (issues.length) throw invalid(issues, 422);
  const gender = screen.instrument === 'audit-c' ? await genderOf(tx, qr) : undefined;
  const { total, severity } = scoreScreen(screen.instrument, scores, gender);
  const severities = loadCatalog().codeSystems.get(SEVERITY_SYSTEM);
  const display = severities ? conceptIndex(severities).get(severity)?.display : undefined;
  const computed: QuestionnaireResponseItem[] = [
    { linkId: 'total-score', text: 'Total score (computed by the server)', answer: [{ valueInteger: total }] },
    {
      linkId: 'severity',
      text: 'Severity (computed by the server)',
      answer: [{ valueCoding: { system: SEVERITY_SYSTEM, code: severity, ...(display ? { display } : {}) } }],
    },
  ];
  return { ...qr, item: [...answers, ...computed] };
}

/** WriteRule: scores completed PHQ-9, GAD-7 and AUDIT-C responses. */
export const scoreRule: WriteRule = {
  name: 'questionnaire-scores',
  types: ['QuestionnaireResponse'],
  async before(_ctx, tx, event) {
    if (!event.resource) return;
    return withScores(tx, event.resource as QR);
  },
};
