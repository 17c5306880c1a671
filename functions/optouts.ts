import { lambdaHttpHandler } from '../lib/composition.ts';
import { optOutsRoute } from '../lib/http/routes/optouts.ts';

/** Lambda entry point of the `optouts` route (lib/http/routes/optouts.ts). */
export const handler = lambdaHttpHandler(optOutsRoute);
