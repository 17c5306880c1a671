import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/openapi.ts';

/** Lambda entry point of the `openapi` route (lib/lambda/routes/openapi.ts). */
export const handler = lambdaHttpHandler(route);
