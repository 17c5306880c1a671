import { lambdaHttpHandler } from '../lib/composition.ts';
import { meRoute } from '../lib/http/routes/me.ts';

/** Lambda entry point of the `me` route (lib/http/routes/me.ts). */
export const handler = lambdaHttpHandler(meRoute);
