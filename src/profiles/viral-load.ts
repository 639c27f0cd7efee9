/**
 * Viral load interpretation: an Observation claiming the viral-load profile gets an interpretation
 * from viral-load-status, suppressed below 1000 copies/mL and unsuppressed from 1000 up (SWIT 5.3;
 * WHO consolidated HIV guidelines 2021, threshold for treatment failure). The server owns that
 * coding: a client's own coding of the same system is replaced, other interpretations are kept.
 */
import type { Observation } from '@medplum/fhirtypes';
import type { WriteRule } from '../fhir/rules';
import { PROJECT_BASE } from '../terminology/catalog';
import { PROFILE_PREFIX } from './registry';

const STATUS_SYSTEM = `${PROJECT_BASE}/CodeSystem/viral-load-status`;
const VIRAL_LOAD_PROFILE = `${PROFILE_PREFIX}viral-load`;
/** Copies/mL at and above which a viral load is not suppressed. */
export const SUPPRESSION_THRESHOLD = 1000;

/** suppressed | unsuppressed for a viral load in copies/mL. */
export function suppressionOf(copiesPerMl: number): 'suppressed' | 'unsuppressed' {
  return copiesPerMl < SUPPRESSION_THRESHOLD ? 'suppressed' : 'unsuppressed';
}

/** The observation with the server's interpretation, or undefined when it is not a viral load. */
export function withInterpretation(obs: Observation): Observation | undefined {
  const value = obs.valueQuantity?.value;
  if (!obs.meta?.profile?.includes(VIRAL_LOAD_PROFILE) || typeof value !== 'number') return undefined;
  const status = suppressionOf(value);
  const others = (obs.interpretation ?? []).filter((cc) => !cc.coding?.some((c) => c.system === STATUS_SYSTEM));
  const display = status === 'suppressed' ? 'Virally suppressed (< 1000 copies/mL)' : 'Not virally suppressed (>= 1000 copies/mL)';
  return { ...obs, interpretation: [...others, { coding: [{ system: STATUS_SYSTEM, code: status, display }] }] };
}

/** WriteRule: adds the suppression status to viral loads. */
export const viralLoadRule: WriteRule = {
  name: 'viral-load-interpretation',
  types: ['Observation'],
  async before(_ctx, _tx, event) {
    return event.resource ? withInterpretation(event.resource as Observation) : undefined;
  },
};
