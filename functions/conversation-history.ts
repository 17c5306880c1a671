import { lambdaHttpHandler } from '../lib/composition.ts';
import { route } from '../lib/lambda/routes/conversation-history.ts';

/** Lambda entry point of the `conversation-history` route (lib/lambda/routes/conversation-history.ts). */
export const handler = lambdaHttpHandler(route);
