/** Indicators as Measures, $evaluate-measure, /reports/indicators. */
import type { LinkcareModule } from '../modules';

export const reportingModule: LinkcareModule = {
  name: 'reporting',
};
