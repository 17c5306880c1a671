import { DomainError } from '../../domain/errors.ts';
import type { PageRequest } from '../../ports/store.ts';

/** The VALIDATION_FAILED (400) of a cursor that is not one of ours. */
export const invalidCursor = (): DomainError =>
  new DomainError('VALIDATION_FAILED', {}, [{ field: 'cursor', message: 'Cursor inválido' }]);

/*
 * Page cursors are base64url JSON objects, opaque to callers. They carry only what positions the
 * next Query (a sort key value or a batch position), never a partition: the partition always comes
 * from the request's own tenant or queue, so a forged cursor can at worst skip items the caller may see.
 */
export const encodeCursor = (cursor: object): string =>
  Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');

/** The JSON object inside a cursor; `invalidCursor()` for anything that is not one of ours. */
export function decodeCursor(cursor: string): Record<string, unknown> {
  if (cursor.length === 0 || cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidCursor();
  return parsed as Record<string, unknown>;
}

/** Refuses a page size that is not a positive integer (a caller's bug, not a client's input). */
export function checkLimit(method: string, limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`${method}: limit must be a positive integer`);
}

/** A VALIDATION_FAILED (400) naming the page request's field. */
const invalidPage = (field: string, message: string): DomainError =>
  new DomainError('VALIDATION_FAILED', {}, [{ field, message }]);

/** Refuses a page size outside 1..100 or a status that is not one of `statuses` (VALIDATION_FAILED). */
export function checkPageRequest<S extends string>(page: PageRequest<S>, statuses: readonly string[]): void {
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > 100) {
    throw invalidPage('limit', 'Deve ser um inteiro entre 1 e 100');
  }
  if (page.status !== undefined && !statuses.includes(page.status)) {
    throw invalidPage('status', 'Status inválido');
  }
}
