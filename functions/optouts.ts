import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/optouts.ts';

/** Lambda entry point of the `optouts` route (lib/lambda/routes/optouts.ts). */
export const handler = lambdaHttpHandler(route);
