import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/send-upcoming.ts';

/** Lambda entry point of the `send-upcoming` route (lib/lambda/routes/send-upcoming.ts). */
export const handler = lambdaHttpHandler(route);
