import { docsRoute } from '../../http/docs-route.ts';

/** GET /api/v1/billing/docs and /docs/{asset}: Swagger UI over the OpenAPI document, served locally. */
export const route = docsRoute;
