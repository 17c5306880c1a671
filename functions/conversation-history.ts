import { lambdaHttpHandler } from '../lib/composition.ts';
import { conversationHistoryRoute } from '../lib/http/routes/conversation-history.ts';

/** Lambda entry point of the `conversation-history` route (lib/http/routes/conversation-history.ts). */
export const handler = lambdaHttpHandler(conversationHistoryRoute);
