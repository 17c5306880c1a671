import { sendBillingRoute } from '../../http/send-billing-route.ts';

/** POST /api/v1/billing/send/upcoming */
export const route = sendBillingRoute('upcoming');
