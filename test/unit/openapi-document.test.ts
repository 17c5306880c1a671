import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { buildHttpHandler, type Container, createContainer } from '../../lib/composition.ts';
import { loadConfig } from '../../lib/config.ts';
import { ERROR_TABLE, type ErrorCode } from '../../lib/domain/errors.ts';
import {
  buildOpenApiDocument,
  documentedOperations,
  serverUrlFromHeaders,
} from '../../lib/http/openapi-document.ts';
import type { HttpRoute } from '../../lib/http/route.ts';
import { docsRoute } from '../../lib/http/routes/docs.ts';
import { OPERATIONS } from '../../lib/http/routes/index.ts';
import { openApiRoute as openapiRoute } from '../../lib/http/routes/openapi.ts';
import { GUIDE_EXAMPLE_1 } from '../../lib/http/routes/send-overdue.ts';

/** The Lambda handler of a route factory, as the local stack and AWS run it (no store is touched). */
const invoke = async (route: HttpRoute<Container>, path: string, pathParameters?: Record<string, string>) => {
  const container = createContainer(loadConfig({ LOG_LEVEL: 'SILENT' }), { store: {} as never });
  const handler = buildHttpHandler(route, container);
  const event = {
    version: '2.0',
    routeKey: `GET ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'billing.example.com', 'x-forwarded-proto': 'https' },
    pathParameters,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', http: { method: 'GET', path, sourceIp: '203.0.113.9' } },
  } as unknown as APIGatewayProxyEventV2;
  const result = await handler(event, {} as Context);
  return { ...result, contentType: String(result.headers?.['content-type'] ?? '') };
};

describe('openapi-document', () => {
  it('is an OpenAPI 3.1 document with the API key security scheme', () => {
    // Act
    const doc = buildOpenApiDocument();

    // Assess
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.components?.securitySchemes?.BillingApiKey).toEqual(
      expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-Billing-API-Key' }),
    );
    expect(doc.servers).toBeUndefined();
  });

  it('documents every operation of the route list', () => {
    // Prepare
    const documented = new Set(documentedOperations().map((op) => `${op.method} ${op.path}`));

    // Act
    const missing = OPERATIONS.map((r) => `${r.method} ${r.path}`).filter((key) => !documented.has(key));

    // Assess
    expect(missing).toEqual([]);
  });

  it('documents nothing but the operations of the route list', () => {
    // Act
    const documented = documentedOperations().map((op) => `${op.method} ${op.path}`);

    // Assess
    expect(documented.sort()).toEqual(OPERATIONS.map((op) => `${op.method} ${op.path}`).sort());
  });

  it("lists each operation's declared error codes under their status, and the stack's codes from its declaration", () => {
    // Prepare
    const doc = buildOpenApiDocument();

    // Assess
    for (const op of OPERATIONS) {
      const method = op.method.toLowerCase() as 'get' | 'post' | 'delete';
      const responses = doc.paths?.[op.path]?.[method]?.responses ?? {};
      const listed = (code: ErrorCode) => responses[String(ERROR_TABLE[code].status)]?.description ?? '';
      for (const code of op.errors) expect(listed(code), `${op.method} ${op.path}`).toContain(`\`${code}\``);
      if (op.auth === 'apiKey') {
        for (const code of ['API_KEY_MISSING', 'IP_NOT_ALLOWED', 'RATE_LIMITED'] as const)
          expect(listed(code), `${op.method} ${op.path}`).toContain(`\`${code}\``);
      }
      if (op.request.body && !op.readUnreadableBodies) {
        for (const code of ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'MALFORMED_JSON'] as const)
          expect(listed(code), `${op.method} ${op.path}`).toContain(`\`${code}\``);
      }
    }
  });

  it('documents the product operations, authenticated except health and docs', () => {
    // Prepare
    const doc = buildOpenApiDocument();
    const op = (path: string, method: 'get' | 'post') => doc.paths?.[path]?.[method];

    // Assess
    for (const type of ['overdue', 'upcoming', 'notification']) {
      const send = op(`/api/v1/billing/send/${type}`, 'post');
      expect(send?.security).toEqual([{ BillingApiKey: [] }]);
      expect(send?.responses?.['400']?.description?.includes('`NO_BUSINESS_HOURS`')).toBe(
        type !== 'notification',
      );
      expect(Object.keys(send?.responses ?? {}).sort()).toEqual(
        ['200', '400', '401', '403', '409', '413', '415', '429'].sort(),
      );
      expect(Object.keys(send?.responses?.['429']?.headers ?? {})).toEqual(
        expect.arrayContaining(['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']),
      );
      expect(send?.responses?.['200']?.headers).toHaveProperty('Idempotent-Replayed');
      expect(send?.parameters).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'dry_run', in: 'query' })]),
      );
    }
    expect(op('/api/v1/billing/queue/{queue_id}/status', 'get')?.security).toEqual([{ BillingApiKey: [] }]);
    expect(op('/api/v1/billing/queue/{queue_id}/control', 'post')).toBeDefined();
    expect(op('/api/v1/billing/queues', 'get')).toBeDefined();
    expect(op('/api/v1/billing/queue/{queue_id}/contacts', 'get')).toBeDefined();
    expect(op('/api/v1/billing/campaigns/{external_id}', 'get')).toBeDefined();
    expect(op('/health', 'get')?.security).toEqual([]);
    expect(op('/api/v1/billing/openapi.json', 'get')?.security).toEqual([]);
    expect(op('/api/v1/billing/docs', 'get')?.security).toEqual([]);
  });

  it('lists operations without trailing slashes, in {param} form', () => {
    const ops = documentedOperations();
    expect(ops).toContainEqual({ method: 'POST', path: '/api/v1/billing/queue/{queue_id}/control' });
    expect(ops.every((o) => o.path === '/' || !o.path.endsWith('/'))).toBe(true);
  });

  it('carries the guide Exemplo 1 as the send/overdue request example', () => {
    const doc = buildOpenApiDocument();
    const content = doc.paths?.['/api/v1/billing/send/overdue']?.post?.requestBody;
    expect(content).toHaveProperty(['content', 'application/json', 'example'], GUIDE_EXAMPLE_1);
  });

  it('enumerates exactly the codes of ERROR_TABLE', () => {
    const doc = buildOpenApiDocument();
    const schema = doc.components?.schemas?.ErrorCode as { enum?: string[] } | undefined;
    expect(schema?.enum?.slice().sort()).toEqual(Object.keys(ERROR_TABLE).sort());
  });

  it('uses the given server URL without changing the next document', () => {
    expect(buildOpenApiDocument({ serverUrl: 'https://api.example.com' }).servers).toEqual([
      { url: 'https://api.example.com' },
    ]);
    expect(buildOpenApiDocument().servers).toBeUndefined();
  });

  it('derives the server URL from the host header, and refuses junk hosts', () => {
    expect(serverUrlFromHeaders({ host: 'api.example.com' })).toBe('https://api.example.com');
    expect(serverUrlFromHeaders({ host: '127.0.0.1:3000' })).toBe('http://127.0.0.1:3000');
    expect(serverUrlFromHeaders({ host: 'localhost:3000', 'x-forwarded-proto': 'https' })).toBe(
      'https://localhost:3000',
    );
    expect(serverUrlFromHeaders({ host: 'evil.com/"><script>' })).toBeUndefined();
    expect(serverUrlFromHeaders({})).toBeUndefined();
  });
});

describe('openapi and docs routes', () => {
  it('serves the document as JSON with the caller host as server', async () => {
    // Act
    const res = await invoke(openapiRoute, '/api/v1/billing/openapi.json');

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    const doc = JSON.parse(String(res.body));
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.servers).toEqual([{ url: 'https://billing.example.com' }]);
  });

  it('serves an HTML page that loads only local assets', async () => {
    // Act
    const res = await invoke(docsRoute, '/api/v1/billing/docs');

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.contentType).toMatch(/^text\/html/);
    const html = String(res.body);
    expect(html).toContain('src="/api/v1/billing/docs/swagger-ui-bundle.js?v=');
    expect(html).toContain('href="/api/v1/billing/docs/swagger-ui.css?v=');
    expect(html).toContain('src="/api/v1/billing/docs/docs-init.js?v=');
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('serves the Swagger UI bundle as JavaScript with a cache header', async () => {
    const res = await invoke(docsRoute, '/api/v1/billing/docs/swagger-ui-bundle.js', {
      asset: 'swagger-ui-bundle.js',
    });
    expect(res.statusCode).toBe(200);
    expect(res.contentType).toMatch(/^text\/javascript/);
    expect(res.headers?.['cache-control']).toMatch(/max-age=\d+/);
    expect(String(res.body)).toContain('SwaggerUIBundle');
  });

  it('serves the stylesheet as CSS and the initializer pointing at the document', async () => {
    const css = await invoke(docsRoute, '/api/v1/billing/docs/swagger-ui.css', { asset: 'swagger-ui.css' });
    const init = await invoke(docsRoute, '/api/v1/billing/docs/docs-init.js', { asset: 'docs-init.js' });
    expect(css.contentType).toMatch(/^text\/css/);
    expect(String(init.body)).toContain('"/api/v1/billing/openapi.json"');
  });

  it('answers 404 for any name outside the whitelist', async () => {
    for (const asset of ['index.html', '..%2Fpackage.json', '../package.json', 'constructor', '__proto__']) {
      const res = await invoke(docsRoute, `/api/v1/billing/docs/${asset}`, { asset });
      expect(res.statusCode).toBe(404);
      expect(JSON.parse(String(res.body))).toMatchObject({ success: false, code: 'ROUTE_NOT_FOUND' });
    }
  });
});
