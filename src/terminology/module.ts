/** The project's CodeSystems and ValueSets, $validate-code and $expand. */
import type { LinkcareModule } from '../modules';
import { loadCatalog } from './catalog';
import { registerTerminologyOperations } from './operations';
import { seedCatalog } from './seed';

export const terminologyModule: LinkcareModule = {
  name: 'terminology',
  registerOperations: (ops) => void registerTerminologyOperations(ops),
  // The files in schemas/terminology and schemas/questionnaires become shared knowledge resources.
  seed: async (_ctx, tx) => void (await seedCatalog(tx, loadCatalog())),
};
