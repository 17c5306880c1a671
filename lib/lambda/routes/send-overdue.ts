import { sendBillingRoute } from '../../http/send-billing-route.ts';

/** POST /api/v1/billing/send/overdue */
export const route = sendBillingRoute('overdue');
