import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/evolution-webhook.ts';

/** Lambda entry point of the `evolution-webhook` route (lib/lambda/routes/evolution-webhook.ts). */
export const handler = lambdaHttpHandler(route);
