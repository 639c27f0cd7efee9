/** Consent decisions and the consent write rules. */
import type { LinkcareModule } from '../modules';

export const consentModule: LinkcareModule = {
  name: 'consent',
};
