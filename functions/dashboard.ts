import { lambdaHttpHandler } from '../lib/composition.ts';
import { dashboardRoute } from '../lib/http/routes/dashboard.ts';

/** Lambda entry point of the `dashboard` route (lib/http/routes/dashboard.ts). */
export const handler = lambdaHttpHandler(dashboardRoute);
