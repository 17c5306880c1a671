import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/queue-control.ts';

/** Lambda entry point of the `queue-control` route (lib/lambda/routes/queue-control.ts). */
export const handler = lambdaHttpHandler(route);
