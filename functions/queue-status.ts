import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/queue-status.ts';

/** Lambda entry point of the `queue-status` route (lib/lambda/routes/queue-status.ts). */
export const handler = lambdaHttpHandler(route);
