import { lambdaHttpHandler } from '../lib/composition.ts';
import { listEventsRoute } from '../lib/http/routes/list-events.ts';

/** Lambda entry point of the `list-events` route (lib/http/routes/list-events.ts). */
export const handler = lambdaHttpHandler(listEventsRoute);
