import { lambdaHttpHandler } from '../lib/composition.ts';
import { evolutionWebhookRoute } from '../lib/http/routes/evolution-webhook.ts';

/** Lambda entry point of the `evolution-webhook` route (lib/http/routes/evolution-webhook.ts). */
export const handler = lambdaHttpHandler(evolutionWebhookRoute);
