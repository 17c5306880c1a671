import { lambdaHttpHandler } from '../lib/composition.ts';
import { queueControlRoute } from '../lib/http/routes/queue-control.ts';

/** Lambda entry point of the `queue-control` route (lib/http/routes/queue-control.ts). */
export const handler = lambdaHttpHandler(queueControlRoute);
