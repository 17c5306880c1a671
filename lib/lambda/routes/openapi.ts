import type { RouteFactory } from '../../composition.ts';
import { buildOpenApiDocument, serverUrlFromHeaders } from '../../http/openapi-document.ts';

/** GET /api/v1/billing/openapi.json: the OpenAPI 3.1 document, with the caller's host as its server. */
export const route: RouteFactory = () => async (request) => ({
  statusCode: 200,
  body: buildOpenApiDocument({ serverUrl: serverUrlFromHeaders(request.headers) }),
  // Small and generated from code: always fresh after a deploy.
  headers: { 'cache-control': 'no-cache' },
});
