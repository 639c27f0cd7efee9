/** Closed-loop referrals: Task state machine, referral consent check, $referral-metrics, the directory's open-now. */
import type { LinkcareModule } from '../modules';
import { referralMetricsOperation } from './metrics-operation';
import { referralRule } from './rule';
import { openNowRewrite } from './directory';

export const referralsModule: LinkcareModule = {
  name: 'referrals',
  rules: [referralRule],
  searchRewrites: [openNowRewrite],
  registerOperations: (ops) => void ops.register(referralMetricsOperation),
};
