import { lambdaHttpHandler } from '../lib/composition.ts';
import { queueContactsRoute } from '../lib/http/routes/queue-contacts.ts';

/** Lambda entry point of the `queue-contacts` route (lib/http/routes/queue-contacts.ts). */
export const handler = lambdaHttpHandler(queueContactsRoute);
