/** Chapter 5 services: decision-support operations (and care gaps). */
import type { LinkcareModule } from '../modules';
import { registerDecisionOperations } from './operations';

export const servicesModule: LinkcareModule = {
  name: 'services',
  registerOperations: (ops) => void registerDecisionOperations(ops),
};
