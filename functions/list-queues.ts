import { lambdaHttpHandler } from '../lib/composition.ts';
import { listQueuesRoute } from '../lib/http/routes/list-queues.ts';

/** Lambda entry point of the `list-queues` route (lib/http/routes/list-queues.ts). */
export const handler = lambdaHttpHandler(listQueuesRoute);
