import { lambdaHttpHandler } from '../lib/composition.ts';
import { healthRoute } from '../lib/http/routes/health.ts';

/** Lambda entry point of the `health` route (lib/http/routes/health.ts). */
export const handler = lambdaHttpHandler(healthRoute);
