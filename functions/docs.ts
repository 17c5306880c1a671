import { lambdaHttpHandler } from '../lib/composition.ts';
import { docsRoute } from '../lib/http/routes/docs.ts';

/** Lambda entry point of the `docs` route (lib/http/routes/docs.ts). */
export const handler = lambdaHttpHandler(docsRoute);
