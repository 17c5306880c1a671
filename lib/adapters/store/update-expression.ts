import { randomUUID } from 'node:crypto';
import type { Item, UpdateInput } from './dynamodb-operations.ts';
import { TTL_ATTRIBUTE, ttlSeconds } from './table-schema.ts';

/**
 * Collects the names and values of one update expression, so each write reads as its clauses.
 * Placeholders are numbered: attribute names never reach an expression as text.
 */
export class Expression {
  readonly names: Record<string, string> = {};
  readonly values: Item = {};
  private readonly sets: string[] = [];
  private readonly adds: string[] = [];
  private readonly removes: string[] = [];
  private count = 0;

  /** `#name` for an attribute. */
  name(attribute: string): string {
    const placeholder = `#${attribute.replace(/[^A-Za-z0-9_]/g, '_')}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  /** `:vN` for a value. */
  value(value: unknown): string {
    const placeholder = `:v${this.count++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  set(attribute: string, value: unknown): this {
    this.sets.push(`${this.name(attribute)} = ${this.value(value)}`);
    return this;
  }

  /** SET with a raw right-hand side (for `if_not_exists(...) + ...`). */
  setRaw(attribute: string, expression: string): this {
    this.sets.push(`${this.name(attribute)} = ${expression}`);
    return this;
  }

  add(attribute: string, by: number): this {
    this.adds.push(`${this.name(attribute)} ${this.value(by)}`);
    return this;
  }

  remove(...attributes: string[]): this {
    for (const attribute of attributes) this.removes.push(this.name(attribute));
    return this;
  }

  /** The UpdateItem input, with `condition` built from the same placeholders. */
  update(
    condition?: string,
  ): Pick<
    UpdateInput,
    'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
  > {
    const clauses = [
      this.sets.length > 0 ? `SET ${this.sets.join(', ')}` : '',
      this.adds.length > 0 ? `ADD ${this.adds.join(', ')}` : '',
      this.removes.length > 0 ? `REMOVE ${this.removes.join(', ')}` : '',
    ].filter((clause) => clause !== '');
    return {
      UpdateExpression: clauses.join(' '),
      ...(condition === undefined ? {} : { ConditionExpression: condition }),
      ExpressionAttributeNames: this.names,
      ...(Object.keys(this.values).length > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/** SETs the item's expiry, or REMOVEs it (null: the item has work again and must never expire). */
export const setExpiry = (expression: Expression, expiresAt: string | null): Expression =>
  expiresAt === null
    ? expression.remove(TTL_ATTRIBUTE)
    : expression.set(TTL_ATTRIBUTE, ttlSeconds(expiresAt));

/**
 * Attribute naming the adding write (ADD) that changed an item last. The SDK sends a write again
 * when its answer was lost (a timeout, a reset connection), and an ADD carried out twice counts
 * twice. So such a write sets its own id on the condition that the item does not hold it yet: its
 * retry is refused, and an item holding the id is that write, done. (A writer that comes between
 * the lost answer and the retry, within seconds, lets the retry add again: rare twice over.)
 */
export const LAST_WRITE = 'lastWrite';

/**
 * Makes `expression` an adding write that happens once (LAST_WRITE): sets its id and returns the
 * condition that it has not been carried out yet, and how to recognise it in an item.
 */
export const addOnce = (expression: Expression): { notYet: string; isThisWrite: (item: Item) => boolean } => {
  const id = randomUUID();
  expression.set(LAST_WRITE, id);
  const last = expression.name(LAST_WRITE);
  return {
    notYet: `(attribute_not_exists(${last}) OR ${last} <> ${expression.value(id)})`,
    isThisWrite: (item) => item[LAST_WRITE] === id,
  };
};
