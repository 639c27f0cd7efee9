/** Closed-loop referrals: Task state machine, referral consent check, $referral-metrics. */
import type { LinkcareModule } from '../modules';
import { referralMetricsOperation } from './metrics-operation';
import { referralRule } from './rule';

export const referralsModule: LinkcareModule = {
  name: 'referrals',
  rules: [referralRule],
  registerOperations: (ops) => void ops.register(referralMetricsOperation),
};
