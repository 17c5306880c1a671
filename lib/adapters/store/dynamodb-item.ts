import { TABLE_ATTRIBUTES } from './table-schema.ts';

/** One item as the document client reads and writes it. */
export type Item = Record<string, unknown>;

/** True for the error of a failed ConditionExpression (an expected outcome, never a bug). */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/** Drops `undefined` anywhere inside plain data: the document client refuses it unless configured otherwise. */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutUndefined) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, withoutUndefined(v)]),
    ) as T;
  }
  return value;
}

/** The entity stored in an item: everything but the key, index and TTL attributes. */
export function toEntity<T>(item: Item): T {
  const entity: Item = { ...item };
  for (const attribute of TABLE_ATTRIBUTES) delete entity[attribute];
  return entity as T;
}
