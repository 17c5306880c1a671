import type { Item, tableOperations } from './dynamodb-operations.ts';
import { type DueKind, GSI2, indexPartitions, keys, PK } from './table-schema.ts';
import { Expression } from './update-expression.ts';

/**
 * The writes of a queue's flag items the sweeper checks when due (a delivery watch, a receipt
 * recount; docs/data-model.md): a small item under the queue's partition, found through a sparse
 * due-index entry (`DUE#<kind>` / `<checkAt>#<queueId>`), carrying a `token` that changes every
 * time something flags it, so the sweeper's remove, conditional on the token it read, never drops a
 * flag set again since.
 */
export const dueFlagWrites = (
  operations: Pick<ReturnType<typeof tableOperations>, 'updateIfMatch' | 'deleteIfMatch'>,
  kind: DueKind,
) => ({
  /**
   * One write whatever the flag's state: absent, created with `fields` and due at `checkAt`;
   * present, only `token` changes (the due time and `fields` stay as the sweeper left them).
   * The item after the write.
   */
  async flag(
    key: { pk: string; sk: string },
    queueId: string,
    checkAt: string,
    token: string,
    fields: Item,
  ): Promise<Item> {
    const e = new Expression().set('token', token).set(GSI2.pk, indexPartitions.due(kind));
    const keep = (attribute: string, value: unknown) =>
      e.setRaw(attribute, `if_not_exists(${e.name(attribute)}, ${e.value(value)})`);
    keep('queueId', queueId);
    keep('checkAt', checkAt);
    for (const [attribute, value] of Object.entries(fields)) keep(attribute, value);
    keep(GSI2.sk, keys.dueIndex(kind, checkAt, queueId).gsi2sk);
    // No condition: the write always lands.
    return (await operations.updateIfMatch({ Key: key, ...e.update(), ReturnValues: 'ALL_NEW' })) ?? {};
  },

  /** Moves a flag to `checkAt`, setting `fields` too; false when it is gone. */
  async reschedule(
    key: { pk: string; sk: string },
    queueId: string,
    checkAt: string,
    fields: Item = {},
  ): Promise<boolean> {
    const e = new Expression()
      .set('checkAt', checkAt)
      .set(GSI2.sk, keys.dueIndex(kind, checkAt, queueId).gsi2sk);
    for (const [attribute, value] of Object.entries(fields)) e.set(attribute, value);
    const item = await operations.updateIfMatch({
      Key: key,
      ...e.update(`attribute_exists(${e.name(PK)})`),
      ReturnValues: 'NONE',
    });
    return item !== undefined;
  },

  /** Removes a flag if its token is still `token`; false otherwise. */
  async remove(key: { pk: string; sk: string }, token: string): Promise<boolean> {
    const removed = await operations.deleteIfMatch({
      Key: key,
      ConditionExpression: '#token = :token',
      ExpressionAttributeNames: { '#token': 'token' },
      ExpressionAttributeValues: { ':token': token },
    });
    return removed !== undefined;
  },
});
