import { lambdaHttpHandler } from '../lib/composition.ts';
import { openApiRoute } from '../lib/http/routes/openapi.ts';

/** Lambda entry point of the `openapi` route (lib/http/routes/openapi.ts). */
export const handler = lambdaHttpHandler(openApiRoute);
