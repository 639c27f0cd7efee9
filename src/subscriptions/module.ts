/** R4 rest-hook Subscriptions delivered from the durable outbox. */
import type { LinkcareModule } from '../modules';

export const subscriptionsModule: LinkcareModule = {
  name: 'subscriptions',
};
