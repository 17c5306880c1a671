import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lib/adapters/store/table-schema.ts';
import type { MissingCallback } from './tally.ts';

/**
 * Tells a missing callback the product lost from one the emulator lost. dynalite writes an item and
 * its index entries one LevelDB write after another (an UpdateItem that moves an index key deletes
 * the old entry, puts the new one, then writes the item), so a SIGKILL between them can leave the
 * item with index keys and no index entry: a due callback the due index no longer shows, which real
 * DynamoDB (an item and its index copies always converge) cannot produce. A missing callback is the
 * emulator's when its delivery item carries gsi2 keys that gsi2 does not hold.
 */
export const strandedByTheEmulator = async (options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  missing: readonly MissingCallback[];
}): Promise<MissingCallback[]> => {
  const { client } = options;
  const stranded: MissingCallback[] = [];
  for (const m of options.missing) {
    const delivery = (
      await client.send(
        new GetCommand({
          TableName: options.tableName,
          Key: keys.callbackDelivery(m.queueId, eventIdOf(m)),
          ConsistentRead: true,
        }),
      )
    ).Item;
    if (typeof delivery?.gsi2pk !== 'string' || typeof delivery.gsi2sk !== 'string') continue;
    const indexed = await client.send(
      new QueryCommand({
        TableName: options.tableName,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk = :sk',
        ExpressionAttributeValues: { ':pk': delivery.gsi2pk, ':sk': delivery.gsi2sk },
      }),
    );
    if ((indexed.Count ?? 0) === 0) stranded.push(m);
  }
  return stranded;
};

/**
 * The event id of a missing callback. A chaos debtor's phone ends with their index in the batch
 * (`+55 11 98nnn-iiii`), which is their contact's position: every chaos contact is accepted.
 */
const eventIdOf = (m: MissingCallback): string =>
  m.phone === null ? `${m.queueId}:${m.event}` : `${m.queueId}:${Number(m.phone.slice(-4))}:${m.event}`;
