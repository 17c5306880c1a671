import type { MiddlewareObj } from '@middy/core';
import type { z } from 'zod';
import { DomainError, type Result } from '../domain/errors.ts';
import type { HttpRequest, StackEvent } from './http-handler.ts';
import type { RequestPart } from './route.ts';
import { formatZodIssues } from './schemas/portuguese-issues.ts';

/**
 * Parses a request part with a schema; on failure a VALIDATION_FAILED DomainError whose
 * `details` are the Portuguese field issues (the error middleware renders them as `errors`).
 */
export const validate = <S extends z.ZodType>(schema: S, input: unknown): Result<z.infer<S>> => {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, error: new DomainError('VALIDATION_FAILED', {}, formatZodIssues(parsed.error)) };
};

const parsePart = (part: RequestPart<z.ZodType> | undefined, raw: unknown, request: HttpRequest): unknown => {
  if (!part) return raw;
  const parsed = validate(part.schema, raw);
  if (parsed.ok) return parsed.value;
  throw part.invalid ? part.invalid(request) : parsed.error;
};

/**
 * Validates the operation's declared parts in order (path parameters, query, body) and hands the
 * handler what each schema parsed; an undeclared part is handed as received. A tolerant body is
 * documented, not validated.
 */
export const validateRequest: MiddlewareObj<StackEvent> = {
  name: 'validateRequest',
  before: (request) => {
    const event = request.event;
    const { operation, parsedRequest } = event;
    if (!operation || !parsedRequest) return;
    const { params, query, body } = operation.request;
    event.input = {
      ...event.input,
      params: parsePart(params, parsedRequest.pathParameters, parsedRequest),
      query: parsePart(query, parsedRequest.query, parsedRequest),
      body: parsePart(body?.tolerant ? undefined : body, parsedRequest.body, parsedRequest),
    };
  },
};
