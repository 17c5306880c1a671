import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/get-campaign.ts';

/** Lambda entry point of the `get-campaign` route (lib/lambda/routes/get-campaign.ts). */
export const handler = lambdaHttpHandler(route);
