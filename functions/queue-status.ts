import { lambdaHttpHandler } from '../lib/composition.ts';
import { queueStatusRoute } from '../lib/http/routes/queue-status.ts';

/** Lambda entry point of the `queue-status` route (lib/http/routes/queue-status.ts). */
export const handler = lambdaHttpHandler(queueStatusRoute);
