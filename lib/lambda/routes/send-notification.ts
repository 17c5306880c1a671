import { sendBillingRoute } from '../../http/send-billing-route.ts';

/** POST /api/v1/billing/send/notification */
export const route = sendBillingRoute('notification');
