import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { DomainError, isDomainError } from '../domain/errors.ts';
import type { Logger } from '../observability/logger.ts';
import { type AuthDeps, authenticateCaller } from './authenticate.ts';
import { HttpError } from './http-error.ts';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth.ts';
import { type HttpRoute, type Operation, pathParameterNames, type RouteInput } from './route.ts';
import { validateRequest } from './validate-request.ts';

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
   * Only on operations declaring `readUnreadableBodies`: the code of why the body could not be read
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

export type HttpLambdaHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpHandlerOptions {
  logger: Logger;
  maxBodyBytes: number;
}

/**
 * The event as it travels through the stack: selectOperation attaches the operation, parseRequest
 * the reduced request, authenticateCaller the caller, validateRequest the parsed parts.
 */
export type StackEvent = APIGatewayProxyEventV2 & {
  operation?: Operation<never>;
  parsedRequest?: HttpRequest;
  input?: Partial<RouteInput>;
  /** An authenticated caller's RateLimit headers, and the recording of the key's use. */
  rateLimit?: { headers: Record<string, string>; useRecorded: Promise<void> };
};

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
const parseRequest = (maxBodyBytes: number): MiddlewareObj<StackEvent> => ({
  name: 'parseRequest',
  before: (request) => {
    const event = request.event;
    const readUnreadableBodies = event.operation?.readUnreadableBodies ?? false;
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

export const toResult = (response: HttpResponse): APIGatewayProxyStructuredResultV2 => {
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
const mapErrors = (logger: Logger): MiddlewareObj<StackEvent> => ({
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

/** Whether an operation answers this method and these path parameters (HEAD is GET without a body). */
const answers = (operation: Operation<never>, method: string, parameterNames: string[]): boolean =>
  (operation.method === method || (method === 'HEAD' && operation.method === 'GET')) &&
  pathParameterNames(operation.path).sort().join('/') === parameterNames.sort().join('/');

/**
 * Picks the route's operation that answers the request: by method and by the path parameters
 * API Gateway matched (each operation of a module has its own pair). A single-operation route
 * answers whatever reached it, as API Gateway only routes its own method to it.
 */
const selectOperation = (operations: readonly Operation<never>[]): MiddlewareObj<StackEvent> => ({
  name: 'selectOperation',
  before: (request) => {
    const event = request.event;
    const method = event.requestContext.http.method.toUpperCase();
    const names = Object.keys(event.pathParameters ?? {});
    const operation =
      operations.length === 1 ? operations[0] : operations.find((op) => answers(op, method, names));
    if (!operation) throw new DomainError('METHOD_NOT_ALLOWED');
    event.operation = operation;
  },
});

/** Serializes the handler's HttpResponse once every middleware has decorated it. */
const serializeResponse: MiddlewareObj<StackEvent> = {
  name: 'serializeResponse',
  after: (request) => {
    request.response = toResult(request.response as HttpResponse);
  },
};

/**
 * The shared middy stack of every HTTP Lambda: pick the operation, parse the body, authenticate,
 * validate, run the handler, serialize, map errors. `deps` are the ports the route's handlers use.
 */
export const httpHandler = <Deps extends AuthDeps>(
  route: HttpRoute<Deps>,
  deps: Deps,
  options: HttpHandlerOptions,
): HttpLambdaHandler => {
  const handler = middy<StackEvent, APIGatewayProxyStructuredResultV2>()
    .use(mapErrors(options.logger))
    .use(serializeResponse)
    .use(selectOperation(route.operations as readonly Operation<never>[]))
    .use(parseRequest(options.maxBodyBytes))
    .use(authenticateCaller(deps))
    .use(validateRequest)
    .handler(async (event) => {
      const { operation, parsedRequest, input } = event;
      if (!operation || !parsedRequest || !input) throw new Error('the HTTP middleware stack did not run');
      const response = await (operation as Operation<Deps>).handler(deps, {
        ...input,
        request: parsedRequest,
      } as RouteInput);
      // serializeResponse turns it into API Gateway's result.
      return response as unknown as APIGatewayProxyStructuredResultV2;
    });
  return handler as HttpLambdaHandler;
};
