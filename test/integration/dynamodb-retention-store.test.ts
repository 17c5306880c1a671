import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { useDynalite } from '../support/dynalite.ts';
import { describeRetentionStoreContract } from './store-contract/retention-store-contract.ts';

const db = useDynalite();

/** The retention contract on dynalite (no TTL deletion of its own: only the sweep deletes). */
describeRetentionStoreContract(async ({ clock }) => {
  const tableName = await db.freshTable('retention-test');
  return {
    store: createDynamoDbStore({ client: db.doc, tableName, clock }),
    tableItem: (key) => db.item(tableName, key),
  };
});
