import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/metrics.ts';

/** Lambda entry point of the `metrics` route (lib/lambda/routes/metrics.ts). */
export const handler = lambdaHttpHandler(route);
