import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DomainError } from '../domain/errors.ts';
import { errorResponse, toResult } from './http-handler.ts';
import { DEPLOYED_OPERATIONS } from './routes/index.ts';

/**
 * The `$default` route of the AWS API (infra/api.ts): API Gateway routes each operation under its
 * canonical path only (no `/x/` route keys), so a request that matches no route key lands here. A
 * known path spelled with a trailing slash gets a 308 to the canonical path (the method and body are
 * kept, RFC 7538; query string too); a known path with another method a 405; anything else a 404,
 * with the error body every route shares. Nothing is read, so the function needs no permission.
 */

const escapeRegExp = (text: string) => text.replace(/[.*+?^$()|[\]\\]/g, '\\$&');

/** A path template as a pattern: `{param}` is one non-empty segment. */
const templatePattern = (path: string) =>
  new RegExp(
    `^${path
      .split('/')
      .map((segment) => (/^\{\w+\}$/.test(segment) ? '[^/]+' : escapeRegExp(segment)))
      .join('/')}$`,
  );

const CANONICAL = DEPLOYED_OPERATIONS.map((operation) => ({
  method: operation.method,
  pattern: templatePattern(operation.path),
}));

const servesPath = (path: string, method?: string) =>
  CANONICAL.some(
    (c) =>
      c.pattern.test(path) &&
      (method === undefined || c.method === method || (method === 'HEAD' && c.method === 'GET')),
  );

/** What `$default` answers a request whose method and raw path match no route key. */
export const answerUnrouted = (event: APIGatewayProxyEventV2): APIGatewayProxyStructuredResultV2 => {
  const method = event.requestContext.http.method.toUpperCase();
  const path = event.rawPath;
  const canonical = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : undefined;
  if (canonical && servesPath(canonical, method)) {
    const location = event.rawQueryString ? `${canonical}?${event.rawQueryString}` : canonical;
    return { statusCode: 308, headers: { location }, body: '' };
  }
  const known = servesPath(canonical ?? path);
  return toResult(errorResponse(new DomainError(known ? 'METHOD_NOT_ALLOWED' : 'ROUTE_NOT_FOUND')));
};

/** The Lambda handler of functions/trailing-slash.ts. */
export const trailingSlashHandler = async (
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> => answerUnrouted(event);
