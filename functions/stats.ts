import { lambdaHttpHandler } from '../lib/composition.ts';
import { statsRoute } from '../lib/http/routes/stats.ts';

/** Lambda entry point of the `stats` route (lib/http/routes/stats.ts). */
export const handler = lambdaHttpHandler(statsRoute);
