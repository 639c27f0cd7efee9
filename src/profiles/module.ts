/** Project profiles (JSON Schemas) applied on write, and computed questionnaire scores. */
import type { LinkcareModule } from '../modules';

export const profilesModule: LinkcareModule = {
  name: 'profiles',
};
