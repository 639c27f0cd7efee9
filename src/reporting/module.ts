/** Indicators as Measures, $evaluate-measure, /reports/indicators (docs/reporting.md). */
import type { LinkcareModule } from '../modules';
import { seedMeasures } from './measures';
import { evaluateMeasureOperation } from './operation';
import { indicatorRoutes } from './routes';

export const reportingModule: LinkcareModule = {
  name: 'reporting',
  registerOperations: (ops) => void ops.register(evaluateMeasureOperation),
  routes: indicatorRoutes,
  seed: async (_ctx, tx) => void (await seedMeasures(tx)),
};
