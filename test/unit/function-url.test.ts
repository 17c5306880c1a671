import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { servedByFunctionUrl } from '../../lib/http/function-url.ts';
import { type HttpLambdaHandler, httpHandler } from '../../lib/http/http-handler.ts';
import { evolutionWebhookRoute } from '../../lib/http/routes/evolution-webhook.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import { instance } from '../integration/store-contract/tenant-store-contract.ts';

const CONTEXT = {} as Context;
const WEBHOOK = '/api/v1/billing/webhooks/evolution';

/** A Lambda function URL event (payload format 2.0) as AWS documents it: no route, no path parameters. */
const functionUrlEvent = (method: string, rawPath: string, body?: unknown): APIGatewayProxyEventV2 => ({
  version: '2.0',
  routeKey: '$default',
  rawPath,
  rawQueryString: '',
  headers: {
    'content-type': 'application/json',
    'x-webhook-secret': 'wrong',
    host: 'abc.lambda-url.us-east-1.on.aws',
  },
  requestContext: {
    accountId: 'anonymous',
    apiId: 'abc',
    domainName: 'abc.lambda-url.us-east-1.on.aws',
    domainPrefix: 'abc',
    http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'axios/1.7' },
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    routeKey: '$default',
    stage: '$default',
    time: '06/Dec/2026:19:03:58 +0000',
    timeEpoch: 1_796_583_838_000,
  },
  body: body === undefined ? undefined : JSON.stringify(body),
  isBase64Encoded: false,
});

/** A handler that records the event it is given and answers 200. */
const recording = () => {
  const seen: APIGatewayProxyEventV2[] = [];
  const handler: HttpLambdaHandler = async (event) => {
    seen.push(event);
    return { statusCode: 200, body: '' };
  };
  return { seen, handler };
};

describe('servedByFunctionUrl', () => {
  it('gives a function URL event the route key and decoded path parameters API Gateway would give it', async () => {
    // Prepare
    const { seen, handler } = recording();
    const served = servedByFunctionUrl(evolutionWebhookRoute.operations, handler);

    // Act
    await served(functionUrlEvent('POST', `${WEBHOOK}/acme/inst%201`), CONTEXT);
    await served(functionUrlEvent('POST', `${WEBHOOK}/acme/inst-1/messages-update/`), CONTEXT);

    // Assess
    expect(seen.map((e) => [e.routeKey, e.requestContext.routeKey, e.pathParameters])).toEqual([
      [
        `POST ${WEBHOOK}/{tenant_id}/{instance_id}`,
        `POST ${WEBHOOK}/{tenant_id}/{instance_id}`,
        { tenant_id: 'acme', instance_id: 'inst 1' },
      ],
      [
        `POST ${WEBHOOK}/{tenant_id}/{instance_id}/{event}`,
        `POST ${WEBHOOK}/{tenant_id}/{instance_id}/{event}`,
        { tenant_id: 'acme', instance_id: 'inst-1', event: 'messages-update' },
      ],
    ]);
    expect(seen[0]?.requestContext.http.sourceIp).toBe('203.0.113.9');
  });

  it('answers 404 for a path the route does not serve and 405 for another method, without invoking it', async () => {
    // Prepare
    const { seen, handler } = recording();
    const served = servedByFunctionUrl(evolutionWebhookRoute.operations, handler);

    // Act
    const unknown = await served(functionUrlEvent('POST', '/api/v1/billing/send/overdue'), CONTEXT);
    const get = await served(functionUrlEvent('GET', `${WEBHOOK}/acme/inst-1`), CONTEXT);

    // Assess
    expect([unknown.statusCode, get.statusCode]).toEqual([404, 405]);
    expect(JSON.parse(String(unknown.body)).code).toBe('ROUTE_NOT_FOUND');
    expect(JSON.parse(String(get.body)).code).toBe('METHOD_NOT_ALLOWED');
    expect(seen).toEqual([]);
  });

  it("passes API Gateway's events through untouched", async () => {
    // Prepare
    const { seen, handler } = recording();
    const served = servedByFunctionUrl(evolutionWebhookRoute.operations, handler);
    const routeKey = `POST ${WEBHOOK}/{tenant_id}/{instance_id}`;
    const event = {
      ...functionUrlEvent('POST', `${WEBHOOK}/acme/inst-1`),
      routeKey,
      pathParameters: { tenant_id: 'acme', instance_id: 'inst-1' },
    };

    // Act
    await served(event, CONTEXT);

    // Assess
    expect(seen).toEqual([event]);
  });

  it("reaches the webhook route's authentication with the instance named in the path", async () => {
    // Prepare: the real route and middleware stack; the store knows one instance.
    const looked: Array<[string, string, boolean]> = [];
    const deps = {
      store: {
        getInstance: async (tenantId: string, instanceId: string, options?: { eventually?: boolean }) => {
          looked.push([tenantId, instanceId, options?.eventually === true]);
          return instance({ tenantId, id: instanceId });
        },
      },
      clock: { now: () => new Date('2026-12-06T12:00:00.000Z') },
    };
    const served = servedByFunctionUrl(
      evolutionWebhookRoute.operations,
      httpHandler(evolutionWebhookRoute, deps as never, {
        logger: createLogger('SILENT'),
        maxBodyBytes: 1024,
      }),
    );

    // Act
    const refused = await served(
      functionUrlEvent('POST', `${WEBHOOK}/acme/inst-1`, { event: 'messages.update', data: {} }),
      CONTEXT,
    );

    // Assess: the wrong secret is refused as through API Gateway, after looking up that instance
    // (the cheap eventually consistent read, then a consistent one before refusing).
    expect(refused.statusCode).toBe(401);
    expect(JSON.parse(String(refused.body)).code).toBe('WEBHOOK_UNAUTHORIZED');
    expect(looked).toEqual([
      ['acme', 'inst-1', true],
      ['acme', 'inst-1', false],
    ]);
  });
});
