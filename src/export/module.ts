/** FHIR Bulk Data $export. */
import type { LinkcareModule } from '../modules';

export const exportModule: LinkcareModule = {
  name: 'export',
};
