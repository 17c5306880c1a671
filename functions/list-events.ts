import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/list-events.ts';

/** Lambda entry point of the `list-events` route (lib/lambda/routes/list-events.ts). */
export const handler = lambdaHttpHandler(route);
