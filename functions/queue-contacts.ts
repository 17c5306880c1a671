import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/queue-contacts.ts';

/** Lambda entry point of the `queue-contacts` route (lib/lambda/routes/queue-contacts.ts). */
export const handler = lambdaHttpHandler(route);
