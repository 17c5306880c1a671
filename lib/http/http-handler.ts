import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { DomainError, isDomainError } from '../domain/errors.ts';
import type { Logger } from '../observability/logger.ts';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth.ts';

/** What a route sees: the API Gateway v2 event, reduced to what routes need, with the JSON body parsed. */
export interface HttpRequest {
  method: string;
  path: string;
  pathParameters: Record<string, string>;
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON body, or undefined when the request had none. */
  body: unknown;
  /**
   * Only on routes built with `readUnreadableBodies`: the code of why the body could not be read
   * (PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, MALFORMED_JSON); `body` is then undefined.
   */
  bodyProblem?: string;
  /** The caller's address as API Gateway saw the TCP peer; never taken from X-Forwarded-For. */
  sourceIp: string;
  requestId: string;
}

export interface HttpResponse {
  statusCode: number;
  /** Serialized as JSON unless it is already a string (then sent as is, with the given content type). */
  body?: unknown;
  headers?: Record<string, string>;
}

export type Route = (request: HttpRequest) => Promise<HttpResponse>;

/**
 * A route that needs dependencies (`Deps`: the ports it uses); the same factory serves Lambda, the
 * local stack and tests, which pass the composition root's container.
 * `readUnreadableBodies` marks a route that reads its own unreadable bodies (see HttpHandlerOptions).
 */
export type RouteFactory<Deps> = ((deps: Deps) => Route) & { readUnreadableBodies?: boolean };

export type HttpLambdaHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpHandlerOptions {
  logger: Logger;
  maxBodyBytes: number;
  /**
   * Hand an unreadable body to the route (`bodyProblem`) instead of answering 413/415/400 before it
   * runs: for a sender that never retries a 4xx (Evolution's webhooks), whose route must first
   * authenticate and then answer 2xx `ignored`. Every other route keeps the early 4xx.
   */
  readUnreadableBodies?: boolean;
}

/** The event as it travels through the stack: parseRequest attaches the reduced request. */
type ParsedEvent = APIGatewayProxyEventV2 & { parsedRequest?: HttpRequest };

/** A DomainError that also sets response headers (Retry-After on 429, for instance). */
export class HttpError extends DomainError {
  constructor(
    code: DomainError['code'],
    readonly headers: Record<string, string>,
    params: DomainError['params'] = {},
    details?: unknown,
  ) {
    super(code, params, details);
  }
}

/**
 * The JSON body of an event (undefined when it has none); throws the 413/415/400 DomainErrors. The
 * nesting depth is checked before parsing so that no route ever holds a value that recursive code
 * (JSON.stringify, zod, key sorting) cannot walk.
 */
const parseBody = (
  event: APIGatewayProxyEventV2,
  headers: Record<string, string>,
  maxBodyBytes: number,
): unknown => {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(raw, 'utf8') > maxBodyBytes) throw new DomainError('PAYLOAD_TOO_LARGE');
  const contentType = headers['content-type'] ?? '';
  if (contentType && !/^application\/([\w.+-]*\+)?json\b/i.test(contentType)) {
    throw new DomainError('UNSUPPORTED_MEDIA_TYPE');
  }
  if (jsonDepthExceeds(raw, MAX_JSON_DEPTH)) throw new DomainError('JSON_TOO_DEEP', { max: MAX_JSON_DEPTH });
  try {
    return JSON.parse(raw);
  } catch {
    throw new DomainError('MALFORMED_JSON');
  }
};

/** Turns the raw event into an HttpRequest: size limit (413), content type (415), depth and JSON parsing (400). */
const parseRequest = (maxBodyBytes: number, readUnreadableBodies = false): MiddlewareObj<ParsedEvent> => ({
  name: 'parseRequest',
  before: (request) => {
    const event = request.event;
    const headers = Object.fromEntries(
      Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? '']),
    );
    let body: unknown;
    let bodyProblem: string | undefined;
    try {
      body = parseBody(event, headers, maxBodyBytes);
    } catch (error) {
      if (!readUnreadableBodies || !isDomainError(error)) throw error;
      bodyProblem = error.code;
    }
    event.parsedRequest = {
      method: event.requestContext.http.method.toUpperCase(),
      path: event.rawPath,
      pathParameters: Object.fromEntries(
        Object.entries(event.pathParameters ?? {}).map(([k, v]) => [k, v ?? '']),
      ),
      query: Object.fromEntries(
        Object.entries(event.queryStringParameters ?? {}).map(([k, v]) => [k, v ?? '']),
      ),
      headers,
      body,
      ...(bodyProblem ? { bodyProblem } : {}),
      sourceIp: event.requestContext.http.sourceIp,
      requestId: event.requestContext.requestId,
    };
  },
});

const toResult = (response: HttpResponse): APIGatewayProxyStructuredResultV2 => {
  const isText = typeof response.body === 'string';
  return {
    statusCode: response.statusCode,
    headers: {
      'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      ...response.headers,
    },
    body:
      response.body === undefined ? '' : isText ? (response.body as string) : JSON.stringify(response.body),
  };
};

/** How long a 503 (a dependency's outage) asks the caller to wait before retrying. */
const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** The error body every route shares: `success: false`, a Portuguese `message`, a stable `code`. */
export const errorResponse = (error: DomainError): HttpResponse => ({
  statusCode: error.status,
  body: {
    success: false,
    code: error.code,
    message: error.message,
    ...(error.details === undefined ? {} : { errors: error.details }),
  },
  // A 503 is an outage the caller should wait out: say for how long. Also when the error carries
  // headers of its own (an authenticated route's 503 carries its RateLimit headers).
  headers:
    error.status === 503
      ? {
          'Retry-After': String(OUTAGE_RETRY_AFTER_SECONDS),
          ...(error instanceof HttpError ? error.headers : {}),
        }
      : error instanceof HttpError
        ? error.headers
        : undefined,
});

/** Maps every error to a response in one place: DomainErrors to their status, anything else to a logged 500. */
const mapErrors = (logger: Logger): MiddlewareObj<ParsedEvent> => ({
  name: 'mapErrors',
  onError: (request) => {
    const error = request.error;
    if (isDomainError(error)) {
      // A 503 is a dependency's outage, already logged at WARN where it was seen.
      if (!error.expose && error.status !== 503) logger.error('request failed', { code: error.code, error });
      request.response = toResult(errorResponse(error));
      return;
    }
    logger.error('unexpected error', { error: error as Error, path: request.event.rawPath });
    request.response = toResult(errorResponse(new DomainError('INTERNAL_ERROR')));
  },
});

/** The shared middy stack of every HTTP Lambda: parse, run the route, serialize, map errors. */
export const httpHandler = (route: Route, options: HttpHandlerOptions): HttpLambdaHandler => {
  const handler = middy<ParsedEvent, APIGatewayProxyStructuredResultV2>()
    .use(mapErrors(options.logger))
    .use(parseRequest(options.maxBodyBytes, options.readUnreadableBodies))
    .handler(async (event) => {
      if (!event.parsedRequest) throw new Error('parseRequest middleware did not run');
      return toResult(await route(event.parsedRequest));
    });
  return handler as HttpLambdaHandler;
};
