import { lambdaHttpHandler } from '../lib/composition.ts';
import { servedByFunctionUrl } from '../lib/http/function-url.ts';
import { evolutionWebhookRoute } from '../lib/http/routes/evolution-webhook.ts';

/**
 * Lambda entry point of the `evolution-webhook` route (lib/http/routes/evolution-webhook.ts), reached
 * through the function's own URL (what `instance webhook` registers on AWS) and through its API route.
 */
const apiHandler = lambdaHttpHandler(evolutionWebhookRoute);

export const handler = Object.assign(servedByFunctionUrl(evolutionWebhookRoute.operations, apiHandler), {
  route: apiHandler.route,
});
