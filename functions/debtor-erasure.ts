import { lambdaHttpHandler } from '../lib/composition.ts';
import { debtorErasureRoute } from '../lib/http/routes/debtor-erasure.ts';

/** Lambda entry point of the `debtor-erasure` route (lib/http/routes/debtor-erasure.ts). */
export const handler = lambdaHttpHandler(debtorErasureRoute);
