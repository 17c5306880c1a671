import { lambdaHttpHandler } from '../lib/composition.ts';
import { sendBillingRoute } from '../lib/http/send-billing-route.ts';

/** POST /api/v1/billing/send/upcoming */
export const route = sendBillingRoute('upcoming');
export const handler = lambdaHttpHandler(route);
