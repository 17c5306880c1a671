import { lambdaHttpHandler } from '../lib/composition.ts';
import { instancesRoute } from '../lib/http/routes/instances.ts';

/** Lambda entry point of the `instances` route (lib/http/routes/instances.ts). */
export const handler = lambdaHttpHandler(instancesRoute);
