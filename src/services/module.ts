/** Chapter 5 services: decision-support operations, care gaps and the HIV care (linkage) episode. */
import type { LinkcareModule } from '../modules';
import { registerDecisionOperations } from './operations';
import { careGapsOperation } from './care-gaps';
import { linkageRule } from './care-gaps-linkage-rule';
import { conclusionRule } from './hiv-conclusion-rule';

export const servicesModule: LinkcareModule = {
  name: 'services',
  registerOperations: (ops) => void registerDecisionOperations(ops).register(careGapsOperation),
  // The conclusion check refuses before anything is written, so no episode is derived from a refused conclusion.
  rules: [conclusionRule, linkageRule],
};
