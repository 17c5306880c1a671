import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { type MeteredRequest, meterDynamoDb } from '../../bench/cost/dynamodb-meter.ts';
import { tableModelOf } from '../../bench/cost/dynamodb-sizing.ts';
import { tableDefinition } from '../../lib/adapters/store/table-schema.ts';
import { createTestDocumentClient, useDynalite } from '../support/dynalite.ts';

/**
 * The cost bench's DynamoDB meter on a real emulator: the document client's requests, as the store
 * makes them, sized by the items before and after each one.
 */
describe('cost meter of DynamoDB requests', () => {
  const dynalite = useDynalite();
  let table: string;
  let requests: MeteredRequest[];
  let client: ReturnType<typeof createTestDocumentClient>;

  /** A contact-like item of about 1.5 KB: in gsi1 (by status), 2 write units in the table. */
  const contact = (status: string) => ({
    pk: 'QUEUE#q1',
    sk: 'CONTACT#0001',
    gsi1pk: 'QUEUE#q1#CONTACTS',
    gsi1sk: `${status}#0001`,
    status,
    renderedMessage: 'x'.repeat(1400),
  });

  beforeEach(async () => {
    table = await dynalite.freshTable('cost-meter');
    requests = [];
    client = createTestDocumentClient(dynalite.endpoint);
    meterDynamoDb(client, {
      tableName: table,
      table: tableModelOf(tableDefinition(table)),
      side: dynalite.raw,
      onRequest: (request) => requests.push(request),
    });
  });

  const units = () =>
    requests.map((r) => ({
      command: r.command,
      table: r.tableWriteUnits,
      gsi1: r.indexWriteUnits.gsi1 ?? 0,
      gsi2: r.indexWriteUnits.gsi2 ?? 0,
      read: r.readUnits,
      failed: r.conditionFailed,
    }));

  it('bills a put, an index-moving update, a failed condition and a delete with their index copies', async () => {
    // Act
    await client.send(new PutCommand({ TableName: table, Item: contact('pending') }));
    await client.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: 'QUEUE#q1', sk: 'CONTACT#0001' },
        UpdateExpression: 'SET #s = :s, gsi1sk = :k',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': 'sending', ':k': 'sending#0001' },
      }),
    );
    await expect(
      client.send(
        new PutCommand({
          TableName: table,
          Item: contact('sent'),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toThrow();
    await client.send(new DeleteCommand({ TableName: table, Key: { pk: 'QUEUE#q1', sk: 'CONTACT#0001' } }));

    // Assess
    expect(units()).toEqual([
      { command: 'PutItemCommand', table: 2, gsi1: 2, gsi2: 0, read: 0, failed: false },
      // gsi1sk moved: the old copy deleted, the new one put.
      { command: 'UpdateItemCommand', table: 2, gsi1: 4, gsi2: 0, read: 0, failed: false },
      { command: 'PutItemCommand', table: 2, gsi1: 0, gsi2: 0, read: 0, failed: true },
      { command: 'DeleteItemCommand', table: 2, gsi1: 2, gsi2: 0, read: 0, failed: false },
    ]);
  });

  it('bills each item of a batch write, and reads by consistency and size', async () => {
    // Act
    await client.send(
      new BatchWriteCommand({
        RequestItems: {
          [table]: [1, 2, 3].map((n) => ({
            PutRequest: { Item: { ...contact('pending'), sk: `CONTACT#000${n}` } },
          })),
        },
      }),
    );
    await client.send(
      new GetCommand({ TableName: table, Key: { pk: 'QUEUE#q1', sk: 'CONTACT#0001' }, ConsistentRead: true }),
    );
    await client.send(new GetCommand({ TableName: table, Key: { pk: 'QUEUE#q1', sk: 'CONTACT#0009' } }));
    // A projection does not shrink what is read.
    await client.send(
      new BatchGetCommand({
        RequestItems: {
          [table]: {
            Keys: [1, 2, 9].map((n) => ({ pk: 'QUEUE#q1', sk: `CONTACT#000${n}` })),
            ProjectionExpression: 'pk',
            ConsistentRead: true,
          },
        },
      }),
    );
    // Three items of ~1.5 KB read through a filter that keeps none: ~4.5 KB read, 2 units, halved on the index.
    await client.send(
      new QueryCommand({
        TableName: table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        FilterExpression: '#s = :none',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':p': 'QUEUE#q1#CONTACTS', ':none': 'nothing' },
      }),
    );

    // Assess
    expect(units()).toEqual([
      { command: 'BatchWriteItemCommand', table: 6, gsi1: 6, gsi2: 0, read: 0, failed: false },
      { command: 'GetItemCommand', table: 0, gsi1: 0, gsi2: 0, read: 1, failed: false },
      // No such item: the minimum, halved for an eventually consistent read.
      { command: 'GetItemCommand', table: 0, gsi1: 0, gsi2: 0, read: 0.5, failed: false },
      { command: 'BatchGetItemCommand', table: 0, gsi1: 0, gsi2: 0, read: 3, failed: false },
      { command: 'QueryCommand', table: 0, gsi1: 0, gsi2: 0, read: 1, failed: false },
    ]);
  });
});
