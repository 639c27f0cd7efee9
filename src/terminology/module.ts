/** The project's CodeSystems and ValueSets, $validate-code and $expand. */
import type { LinkcareModule } from '../modules';

export const terminologyModule: LinkcareModule = {
  name: 'terminology',
};
