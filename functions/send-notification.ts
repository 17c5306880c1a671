import { lambdaHttpHandler } from '../lib/composition.ts';
import { sendBillingRoute } from '../lib/http/send-billing-route.ts';

/** POST /api/v1/billing/send/notification */
export const route = sendBillingRoute('notification');
export const handler = lambdaHttpHandler(route);
