import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/docs.ts';

/** Lambda entry point of the `docs` route (lib/lambda/routes/docs.ts). */
export const handler = lambdaHttpHandler(route);
