import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/list-queues.ts';

/** Lambda entry point of the `list-queues` route (lib/lambda/routes/list-queues.ts). */
export const handler = lambdaHttpHandler(route);
