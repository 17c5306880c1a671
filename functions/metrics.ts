import { lambdaHttpHandler } from '../lib/composition.ts';
import { metricsRoute } from '../lib/http/routes/metrics.ts';

/** Lambda entry point of the `metrics` route (lib/http/routes/metrics.ts). */
export const handler = lambdaHttpHandler(metricsRoute);
