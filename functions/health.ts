import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/health.ts';

/** Lambda entry point of the `health` route (lib/lambda/routes/health.ts). */
export const handler = lambdaHttpHandler(route);
