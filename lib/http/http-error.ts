import { DomainError } from '../domain/errors.ts';

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
