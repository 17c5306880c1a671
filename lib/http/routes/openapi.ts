import { defineOperation, type HttpRoute } from '../route.ts';

/** GET /api/v1/billing/openapi.json: the OpenAPI 3.1 document, with the caller's host as its server. */
export const openApiRoute: HttpRoute<unknown> = {
  name: 'openapi',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/api/v1/billing/openapi.json',
      auth: 'none',
      responses: {
        200: {
          description: 'O documento OpenAPI.',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
      },
      errors: [],
      openapi: {
        operationId: 'openapi_document',
        tags: ['Documentação'],
        summary: 'Este documento OpenAPI 3.1',
      },
      handler: async (_deps, { request }) => {
        // Loaded when called: the document walks the route list, which holds this route.
        const { buildOpenApiDocument, serverUrlFromHeaders } = await import('../openapi-document.ts');
        return {
          statusCode: 200,
          body: buildOpenApiDocument({ serverUrl: serverUrlFromHeaders(request.headers) }),
          // Small and generated from code: always fresh after a deploy.
          headers: { 'cache-control': 'no-cache' },
        };
      },
    }),
  ],
};
