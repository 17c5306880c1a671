import { describe, expect, it } from 'vitest';
import { describeCallbackStoreContract } from '../integration/store-contract/callback-store-contract.ts';
import { describeCampaignStoreContract } from '../integration/store-contract/campaign-store-contract.ts';
import { describeDebtorStoreContract } from '../integration/store-contract/debtor-store-contract.ts';
import { describeDeliveryWatchStoreContract } from '../integration/store-contract/delivery-watch-store-contract.ts';
import { describeFeedbackStoreContract } from '../integration/store-contract/feedback-store-contract.ts';
import type { MakeStore } from '../integration/store-contract/make-store.ts';
import { describeReceiptRecountStoreContract } from '../integration/store-contract/receipt-recount-store-contract.ts';
import { describeRetentionStoreContract } from '../integration/store-contract/retention-store-contract.ts';
import { describeScheduleStoreContract } from '../integration/store-contract/schedule-store-contract.ts';
import { describeSendingStoreContract } from '../integration/store-contract/sending-store-contract.ts';
import { describeTenantStoreContract, tenant } from '../integration/store-contract/tenant-store-contract.ts';
import { createInMemoryStore } from '../support/in-memory-store.ts';

/** The in-memory store passes the same contract suites as the DynamoDB store (test/integration/dynamodb-*). */
const makeStore: MakeStore = async ({ clock }) => ({ store: createInMemoryStore({ clock }) });

describe('createInMemoryStore', () => {
  describeTenantStoreContract(makeStore);
  describeCampaignStoreContract(makeStore);
  describeSendingStoreContract(makeStore);
  describeFeedbackStoreContract(makeStore);
  describeCallbackStoreContract(makeStore);
  describeDeliveryWatchStoreContract(makeStore);
  describeReceiptRecountStoreContract(makeStore);
  describeScheduleStoreContract(makeStore);
  describeRetentionStoreContract(makeStore);
  describeDebtorStoreContract(makeStore);

  it('copies values in and out, so a caller never changes what is stored', async () => {
    // Prepare
    const store = createInMemoryStore();
    const stored = tenant('acme');
    await store.createTenant(stored);

    // Act
    stored.config.dailyMessageLimit = 1;
    const read = await store.getTenant('acme');
    if (read) read.config.dailyMessageLimit = 2;

    // Assess
    expect((await store.getTenant('acme'))?.config.dailyMessageLimit).toBe(
      tenant('acme').config.dailyMessageLimit,
    );
  });
});
