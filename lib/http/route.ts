import type { ResponseConfig } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import type { DomainError, ErrorCode } from '../domain/errors.ts';
import type { KeyScope } from '../domain/tenant-types.ts';
import type { TemplateType } from '../domain/types.ts';
import type { AuthContext } from './authenticate.ts';
import type { HttpRequest, HttpResponse } from './http-handler.ts';

/**
 * One HTTP operation, declared once: its method and path, who may call it, the schemas of its
 * request and answers, the error codes it can answer, and its handler. The middy stack
 * (lib/http/http-handler.ts) authenticates and validates from this declaration, and the OpenAPI
 * document (lib/http/openapi-document.ts) is generated from it.
 */

/**
 * Who may call: `apiKey` (the `X-Billing-API-Key` header, checked by the auth middleware),
 * `webhookSecret` (the gateway instance's secret, checked by the handler, which needs the instance
 * record anyway) or `none`.
 */
export type RouteAuth = 'apiKey' | 'webhookSecret' | 'none';

/** A validated part of the request (path parameters, query or JSON body). */
export interface RequestPart<S extends z.ZodType> {
  schema: S;
  /**
   * The error an invalid value answers instead of 400 VALIDATION_FAILED: a malformed id is
   * "not found", as an unknown one, so the answer reveals nothing.
   */
  invalid?: (request: HttpRequest) => DomainError;
}

export interface BodyPart<S extends z.ZodType> extends RequestPart<S> {
  /** Documented only: the handler reads the body as a tolerant reader (no validation, no 400). */
  tolerant?: boolean;
  /** The OpenAPI request example. */
  example?: unknown;
}

/** A successful answer: its schema (JSON) or content by media type, and the headers it may set. */
export interface SuccessResponse {
  description: string;
  schema?: z.ZodType;
  content?: ResponseConfig['content'];
  headers?: ResponseConfig['headers'];
}

/** What the handler receives: the request, the caller (apiKey routes) and the parsed parts. */
export interface RouteInput<
  Params = unknown,
  Query = unknown,
  Body = unknown,
  Caller = AuthContext | undefined,
> {
  request: HttpRequest;
  /** The authenticated caller of an `apiKey` operation; undefined for the others. */
  auth: Caller;
  params: Params;
  query: Query;
  body: Body;
}

interface OperationFields<A extends RouteAuth = RouteAuth> {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  /** Without a trailing slash (both spellings are served); `{name}` for a path parameter. */
  path: string;
  auth: A;
  /** An `apiKey` operation: the scope the key needs (checked right after authentication, 403 otherwise). */
  scope?: KeyScope;
  /** A send route: the key must be allowed this template type (checked right after authentication). */
  templateType?: TemplateType;
  /**
   * Hand an unreadable body to the handler (`request.bodyProblem`) instead of answering 413/415/400
   * before it runs: for a sender that never retries a 4xx (Evolution's webhooks).
   */
  readUnreadableBodies?: boolean;
  /** Request headers, for the documentation only. */
  headers?: z.ZodObject;
  responses: Record<number, SuccessResponse>;
  /**
   * The codes the handler (and the use cases it calls) can answer. The stack's own codes are added
   * from the declaration: authentication's, the body's (413/415/400) and VALIDATION_FAILED.
   */
  errors: readonly ErrorCode[];
  openapi: { operationId: string; tags: string[]; summary: string; description?: string };
}

/** An operation as its module declares it, with the handler typed by the schemas. */
export interface OperationDeclaration<
  Deps,
  A extends RouteAuth,
  P extends z.ZodType,
  Q extends z.ZodType,
  B extends z.ZodType,
> extends OperationFields<A> {
  request?: { params?: RequestPart<P>; query?: RequestPart<Q>; body?: BodyPart<B> };
  handler: (
    deps: Deps,
    input: RouteInput<z.infer<P>, z.infer<Q>, z.infer<B>, A extends 'apiKey' ? AuthContext : undefined>,
  ) => Promise<HttpResponse>;
}

/** An operation as the stack runs it: the middleware has parsed each part with its schema. */
export interface Operation<Deps> extends OperationFields {
  request: { params?: RequestPart<z.ZodType>; query?: RequestPart<z.ZodType>; body?: BodyPart<z.ZodType> };
  handler: (deps: Deps, input: RouteInput) => Promise<HttpResponse>;
}

/** Types the handler's input from the declared schemas. */
export const defineOperation = <
  Deps,
  A extends RouteAuth,
  P extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  B extends z.ZodType = z.ZodUndefined,
>(
  declaration: OperationDeclaration<Deps, A, P, Q, B>,
): Operation<Deps> =>
  // Sound: the validation middleware hands the handler each part as its schema parsed it.
  ({ ...declaration, request: declaration.request ?? {} }) as unknown as Operation<Deps>;

/**
 * One route module: the operations one Lambda entry point (`functions/<name>.ts`) serves.
 * `Deps` are the ports its handlers use; the composition root passes its container.
 */
export interface HttpRoute<Deps> {
  /** Names the module `lib/http/routes/<name>.ts` and the entry point `functions/<name>.ts`. */
  name: string;
  operations: readonly Operation<Deps>[];
  /**
   * Served by the local stack only, with no Lambda entry point and no API Gateway route: AWS serves
   * it another way (the dashboard is a static site there, infra/dashboard.ts).
   */
  localOnly?: true;
}

/**
 * Both spellings of a path, as the local gateway serves them (lib/local/local-stack.ts). On AWS only the
 * first is a route key; the slash spelling reaches `$default` and gets a 308 (lib/http/trailing-slash.ts).
 */
export const pathVariants = (path: string): string[] => (path === '/' ? [path] : [path, `${path}/`]);

/** The names of a path's `{param}` segments, in order. */
export const pathParameterNames = (path: string): string[] =>
  [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
