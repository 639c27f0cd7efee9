/** Project profiles (JSON Schemas) applied on write, and computed questionnaire scores. */
import type { LinkcareModule } from '../modules';
import { projectCodesRule } from './codes';
import { profileRule } from './rule';
import { scoreRule } from './score-rule';
import { viralLoadRule } from './viral-load';

export const profilesModule: LinkcareModule = {
  name: 'profiles',
  // Checks of what the client sent come first; the server's completions after them.
  rules: [projectCodesRule, profileRule, scoreRule, viralLoadRule],
};
