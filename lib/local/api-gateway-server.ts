import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { DomainError } from '../domain/errors.ts';
import { errorResponse, type HttpLambdaHandler } from '../http/http-handler.ts';
import { compilePathTemplate, type PathTemplate } from '../http/path-template.ts';

/**
 * A local stand-in for API Gateway (HTTP API, payload v2): a real HTTP server that turns each
 * request into the same event API Gateway would send, invokes the same Lambda handler, and
 * writes its structured result back. Routing mirrors API Gateway: `{param}` segments, and
 * both spellings of a path (with and without the trailing slash).
 */
export interface LocalRoute {
  method: string;
  /** e.g. `/api/v1/billing/queue/{queue_id}/status` */
  path: string;
  handler: HttpLambdaHandler;
}

export interface ApiGatewayServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** API Gateway's own payload limit; our middleware applies the product's smaller limit. */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

interface CompiledRoute extends LocalRoute {
  template: PathTemplate;
}

const compile = (route: LocalRoute): CompiledRoute => ({
  ...route,
  template: compilePathTemplate(route.path),
});

const lambdaContext = (requestId: string): Context =>
  ({
    awsRequestId: requestId,
    functionName: 'local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:local',
    memoryLimitInMB: '1024',
    logGroupName: 'local',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

const readBody = (req: IncomingMessage): Promise<Buffer | 'too_large'> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > GATEWAY_MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too_large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });

const sendJson = (res: ServerResponse, statusCode: number, body: unknown): void => {
  res.writeHead(statusCode, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

const sendError = (res: ServerResponse, error: DomainError): void => {
  const r = errorResponse(error);
  sendJson(res, r.statusCode, r.body);
};

export const toApiGatewayEvent = (
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  route: CompiledRoute,
  pathParameters: Record<string, string>,
): APIGatewayProxyEventV2 => {
  const requestId = randomUUID();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const method = (req.method ?? 'GET').toUpperCase();
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: Object.keys(pathParameters).length ? pathParameters : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        // The TCP peer, as API Gateway reports it; X-Forwarded-For is never trusted for identity.
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body: body.length ? body.toString('base64') : undefined,
    isBase64Encoded: body.length > 0,
  };
};

export const startApiGatewayServer = async (options: {
  routes: LocalRoute[];
  port: number;
  host: string;
  onError?: (error: unknown) => void;
}): Promise<ApiGatewayServer> => {
  const routes = options.routes.map(compile);

  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const candidates = routes
        .map((route) => ({ route, match: route.template.match(url.pathname) }))
        .filter((c) => c.match);
      if (candidates.length === 0) {
        req.resume();
        return sendError(res, new DomainError('ROUTE_NOT_FOUND'));
      }
      const method = (req.method ?? 'GET').toUpperCase();
      const hit = candidates.find(
        (c) => c.route.method === method || (method === 'HEAD' && c.route.method === 'GET'),
      );
      if (!hit) {
        req.resume();
        return sendError(res, new DomainError('METHOD_NOT_ALLOWED'));
      }
      const body = await readBody(req);
      if (body === 'too_large') return sendError(res, new DomainError('PAYLOAD_TOO_LARGE'));
      const pathParameters = hit.match ?? {};
      const event = toApiGatewayEvent(req, url, body, hit.route, pathParameters);
      const result = await hit.route.handler(event, lambdaContext(event.requestContext.requestId));
      const headers = Object.fromEntries(
        Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]),
      );
      res.writeHead(result.statusCode ?? 200, headers);
      const payload = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
      res.end(method === 'HEAD' ? undefined : payload);
    } catch (error) {
      options.onError?.(error);
      if (!res.headersSent) sendError(res, new DomainError('INTERNAL_ERROR'));
      else res.end();
    }
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
