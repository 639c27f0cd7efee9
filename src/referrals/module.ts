/** Closed-loop referrals: Task state machine, referral consent check, $referral-metrics. */
import type { LinkcareModule } from '../modules';

export const referralsModule: LinkcareModule = {
  name: 'referrals',
};
