import { lambdaHttpHandler } from '../lib/composition.ts';
import { getCampaignRoute } from '../lib/http/routes/get-campaign.ts';

/** Lambda entry point of the `get-campaign` route (lib/http/routes/get-campaign.ts). */
export const handler = lambdaHttpHandler(getCampaignRoute);
