import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { useDynalite } from '../support/dynalite.ts';
import { describeDeliveryWatchStoreContract } from './store-contract/delivery-watch-store-contract.ts';
import { describeScheduleStoreContract } from './store-contract/schedule-store-contract.ts';

const db = useDynalite();

/** A store on its own fresh table, so tests never see each other's items. */
const freshStore = async () => {
  const tableName = await db.freshTable('due-test');
  return {
    store: createDynamoDbStore({ client: db.doc, tableName }),
    tableItem: (key: Record<string, unknown>) => db.item(tableName, key),
  };
};

describeDeliveryWatchStoreContract(freshStore);
describeScheduleStoreContract(freshStore);
