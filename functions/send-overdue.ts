import { lambdaHttpHandler } from '../lib/composition.ts';
import { sendBillingRoute } from '../lib/http/send-billing-route.ts';

/** POST /api/v1/billing/send/overdue */
export const route = sendBillingRoute('overdue');
export const handler = lambdaHttpHandler(route);
