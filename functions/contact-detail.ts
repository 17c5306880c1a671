import { lambdaHttpHandler } from '../lib/composition.ts';
import { contactDetailRoute } from '../lib/http/routes/contact-detail.ts';

/** Lambda entry point of the `contact-detail` route (lib/http/routes/contact-detail.ts). */
export const handler = lambdaHttpHandler(contactDetailRoute);
