/**
 * The indicators as FHIR Measure resources (http://hl7.org/fhir/R4/measure.html), seeded at
 * start-up as shared knowledge (no custodian) and readable at /fhir/Measure. The evaluation
 * logic lives in code (indicators.ts); the Measure documents it.
 */
import type { Expression, Measure, MeasureGroupPopulation, RelatedArtifact } from '@medplum/fhirtypes';
import type { StoreTx } from '../store/port';
import { INDICATORS, type Indicator } from './indicators';
import { STRATIFIERS, STRATIFIER_TEXT } from './strata';

export const MEASURE_BASE = 'https://linkcare.example.org/fhir/Measure';
export const POPULATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/measure-population';
export const STRATIFIER_SYSTEM = 'https://linkcare.example.org/fhir/CodeSystem/measure-stratifier';
const SCORING_SYSTEM = 'http://terminology.hl7.org/CodeSystem/measure-scoring';
const DAK_SOURCE = 'WHO HIV Digital Adaptation Kit (2023), web annex C, Indicator_definitions';

/** Criteria in prose: the logic is code (indicators.ts). Expression.language is an extensible binding; the types list only its examples. */
const prose = (expression: string): Expression => ({ language: 'text/plain' as Expression['language'], expression });

function population(code: string, description: string): MeasureGroupPopulation {
  return { code: { coding: [{ system: POPULATION_SYSTEM, code }] }, description, criteria: prose(description) };
}

function artifacts(i: Indicator): RelatedArtifact[] {
  const out: RelatedArtifact[] = [];
  if (i.ref) out.push({ type: 'citation', label: i.id, citation: `${DAK_SOURCE}: ${i.id} (${i.ref})` });
  if (i.alignment.mer) out.push({ type: 'documentation', label: 'MER 2.6.1', display: i.alignment.mer });
  if (i.alignment.gam) out.push({ type: 'documentation', label: 'GAM 2023', display: i.alignment.gam });
  if (i.alignment.gf) out.push({ type: 'documentation', label: 'Global Fund', display: i.alignment.gf });
  return out;
}

/** The Measure of one indicator. */
export function measureOf(i: Indicator): Measure & { id: string } {
  const pops = [population('initial-population', i.denominator ?? i.numerator), population('numerator', i.numerator)];
  if (i.denominator) pops.push(population('denominator', i.denominator));
  const related = artifacts(i);
  return {
    resourceType: 'Measure',
    id: i.id,
    url: `${MEASURE_BASE}/${i.id}`,
    ...(i.ref ? { identifier: [{ system: 'http://smart.who.int/hiv/indicators', value: i.id }] } : {}),
    version: '1',
    name: i.id.replace(/[^A-Za-z0-9]/g, '_'),
    title: i.title,
    status: 'active',
    experimental: false,
    publisher: 'linkcare',
    description: `${i.title}. Numerator: ${i.numerator}.${i.denominator ? ` Denominator: ${i.denominator}.` : ''}${i.notes ? ` ${i.notes}` : ''}`,
    scoring: { coding: [{ system: SCORING_SYSTEM, code: i.scoring }] },
    ...(related.length ? { relatedArtifact: related } : {}),
    group: [
      {
        population: pops,
        stratifier: STRATIFIERS.map((s) => ({
          code: { coding: [{ system: STRATIFIER_SYSTEM, code: s }], text: s },
          description: STRATIFIER_TEXT[s],
          criteria: prose(STRATIFIER_TEXT[s]),
        })),
      },
    ],
  };
}

/** JSON with sorted keys, to compare contents whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Writes each Measure unless the stored one has the same content (idempotent across restarts). */
export async function seedMeasures(tx: StoreTx): Promise<number> {
  let written = 0;
  for (const i of INDICATORS) {
    const m = measureOf(i);
    const stored = await tx.read('Measure', m.id);
    if (stored?.resource && !stored.deleted) {
      const { meta: _meta, ...content } = stored.resource as Measure;
      if (canonical(content) === canonical(m)) continue;
    }
    await tx.put(m);
    written++;
  }
  return written;
}
