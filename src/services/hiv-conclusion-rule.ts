/**
 * The conclusion rule of the `hiv-test-conclusion` profile: a conclusion that claims the profile
 * must be what the WHO testing strategy (DAK HIV.B7.DT) makes of the assays it is derived from,
 * else 422. HIV.B7.DT.08 reports HIV-positive only after A1+, A2+ and A3+; a "positive" after a
 * single reactive A1 would start a diagnosis, an ART start and a linkage episode on an unfinished
 * strategy. The JSON Schema cannot see the assays, so the check is a write rule; it lives here,
 * beside the strategy, because src/profiles does not import the services.
 *
 * The assays are those the writer may see (`assaysBehind`: own organisation's and consent-shared,
 * the same set the HIV care episode counts), so a refusal never tells them a result they may not
 * read; with none (assays elsewhere, or not written yet) there is nothing to contradict and the
 * conclusion is stored, as the care gaps also read it. Nothing here is a precondition of a
 * service (SWIT 5.1): a declined test is recorded with the hiv-test-declined profile, not this one.
 */
import type { Observation } from '@medplum/fhirtypes';
import { invalid, issue } from '../fhir/outcome';
import type { WriteRule } from '../fhir/rules';
import { VOID_STATUSES, assaysBehind, conclusionOf, conclusionSupport } from './hiv-conclusion';

const CONCLUSION_PROFILE = 'https://linkcare.example.org/fhir/StructureDefinition/hiv-test-conclusion';

/** Refuses (422) a profiled HIV conclusion that its recorded assays contradict (HIV.B7.DT). */
export const conclusionRule: WriteRule = {
  name: 'hiv-test-conclusion-strategy',
  types: ['Observation'],
  async before(_ctx, tx, event) {
    const o = event.resource as Observation | undefined;
    if (!o?.meta?.profile?.includes(CONCLUSION_PROFILE) || VOID_STATUSES.has(o.status)) return;
    const result = conclusionOf(o);
    const at = o.effectiveDateTime;
    if (!result || !at) return;
    const support = conclusionSupport(result, await assaysBehind(tx, o, event.principal), at.slice(0, 10));
    if (!support.supported) throw invalid([issue('business-rule', support.message, 'Observation.valueCodeableConcept')], 422);
  },
};
