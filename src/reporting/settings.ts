/**
 * The small-cell suppression threshold: counts from 1 to it are masked in released figures.
 * Configured once, as SUPPRESSION_THRESHOLD (src/config.ts, default 4: published counts below 5
 * are suppressed, shared/domain.md "Reporting"); 0 turns masking off.
 */
import type { Config } from '../config';

/** The threshold in force. */
export function suppressionThreshold(config: Config): number {
  return config.suppressionThreshold;
}
