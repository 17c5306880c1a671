import { lambdaHttpHandler } from '../lib/composition.ts';
import { sendNotificationRoute } from '../lib/http/routes/send-notification.ts';

/** Lambda entry point of the `send-notification` route (lib/http/routes/send-notification.ts). */
export const handler = lambdaHttpHandler(sendNotificationRoute);
