import { DomainError } from '../domain/errors.ts';
import { errorResponse, type HttpLambdaHandler, toResult } from './http-handler.ts';
import { compilePathTemplate } from './path-template.ts';

/**
 * Serves a route's operations from a Lambda function URL as well as from API Gateway. Both hand the
 * function a payload format 2.0 event (same `rawPath`, lower-cased `headers`, `requestContext.http`
 * with method and source IP, `body` base64 when binary), but a function URL routes nothing: every
 * path under its host arrives, with routeKey `$default` and no `pathParameters`. Such an event is
 * matched here against the operations' paths (both spellings, as the local gateway does) and given
 * the route key and path parameters API Gateway would have given it, so the handler's stack
 * (lib/http/http-handler.ts) runs unchanged; a path the route does not serve answers 404, another
 * method 405. API Gateway's events (a route key of their own) pass through untouched.
 */
export const servedByFunctionUrl = (
  operations: readonly { method: string; path: string }[],
  handler: HttpLambdaHandler,
): HttpLambdaHandler => {
  const templates = operations.map((operation) => ({
    operation,
    template: compilePathTemplate(operation.path),
  }));
  return async (event, context) => {
    if (event.routeKey !== '$default') return handler(event, context);
    const matches = templates.flatMap(({ operation, template }) => {
      const pathParameters = template.match(event.rawPath);
      return pathParameters ? [{ operation, pathParameters }] : [];
    });
    if (matches.length === 0) return toResult(errorResponse(new DomainError('ROUTE_NOT_FOUND')));
    const method = event.requestContext.http.method.toUpperCase();
    const hit = matches.find(({ operation }) => operation.method === method);
    if (!hit) return toResult(errorResponse(new DomainError('METHOD_NOT_ALLOWED')));
    const routeKey = `${hit.operation.method} ${hit.operation.path}`;
    return handler(
      {
        ...event,
        routeKey,
        requestContext: { ...event.requestContext, routeKey },
        pathParameters: Object.keys(hit.pathParameters).length > 0 ? hit.pathParameters : undefined,
      },
      context,
    );
  };
};
