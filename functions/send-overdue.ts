import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/send-overdue.ts';

/** Lambda entry point of the `send-overdue` route (lib/lambda/routes/send-overdue.ts). */
export const handler = lambdaHttpHandler(route);
