import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/send-notification.ts';

/** Lambda entry point of the `send-notification` route (lib/lambda/routes/send-notification.ts). */
export const handler = lambdaHttpHandler(route);
