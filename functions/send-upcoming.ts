import { lambdaHttpHandler } from '../lib/composition.ts';
import { sendUpcomingRoute } from '../lib/http/routes/send-upcoming.ts';

/** Lambda entry point of the `send-upcoming` route (lib/http/routes/send-upcoming.ts). */
export const handler = lambdaHttpHandler(sendUpcomingRoute);
