import { lambdaHttpHandler } from '../lib/composition.ts';
import { paymentsRoute } from '../lib/http/routes/payments.ts';

/** Lambda entry point of the `payments` route (lib/http/routes/payments.ts). */
export const handler = lambdaHttpHandler(paymentsRoute);
