import { lambdaHttpHandler } from '../lib/composition.ts';
import { sendOverdueRoute } from '../lib/http/routes/send-overdue.ts';

/** Lambda entry point of the `send-overdue` route (lib/http/routes/send-overdue.ts). */
export const handler = lambdaHttpHandler(sendOverdueRoute);
