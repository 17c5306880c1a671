import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_BILLING_CONFIG } from '../../domain/billing-config.ts';
import type {
  ApiKey,
  BillingConfig,
  BillingTemplate,
  BusinessCalendar,
  ConnectionState,
  TemplateVariation,
  Tenant,
  WhatsAppInstance,
} from '../../domain/tenant-types.ts';
import type { TemplateType } from '../../domain/types.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import { createDynamoDbCallbackStore } from './dynamodb-callback-store.ts';
import { createDynamoDbCampaignStore } from './dynamodb-campaign-store.ts';
import { createDynamoDbCounterStore } from './dynamodb-counter-store.ts';
import { createDynamoDbDebtorStore } from './dynamodb-debtor-store.ts';
import { createDynamoDbDeliveryWatchStore } from './dynamodb-delivery-watch-store.ts';
import { createDynamoDbFeedbackStore } from './dynamodb-feedback-store.ts';
import { createDynamoDbInstanceLeaseStore } from './dynamodb-instance-lease-store.ts';
import { createDynamoDbMessageStore } from './dynamodb-message-store.ts';
import { type Item, tableOperations, toEntity, withoutUndefined } from './dynamodb-operations.ts';
import { createDynamoDbQueueRunStore } from './dynamodb-queue-run-store.ts';
import { createDynamoDbQueueStatusRead } from './dynamodb-queue-status.ts';
import { createDynamoDbReceiptRecountStore } from './dynamodb-receipt-recount-store.ts';
import { createDynamoDbRetentionStore } from './dynamodb-retention-store.ts';
import { createDynamoDbScheduleStore } from './dynamodb-schedule-store.ts';
import { createDynamoDbSendingStore } from './dynamodb-sending-store.ts';
import { GSI1, indexPartitions, keys, PK, SK } from './table-schema.ts';

export interface DynamoDbStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Decides when an item's TTL has passed (counters, retention; tests drive it); defaults to the system clock. */
  clock?: Clock;
  /** Receives failures of fire-and-forget writes (`recordApiKeyUse`), which never reject. */
  onBackgroundError?: (error: unknown) => void;
  /** First backoff before re-sending a batch's unprocessed items (doubles each try); default 50 ms. */
  batchRetryDelayMs?: number;
}

/** Attribute of a template item holding use counts by variation id, so one UpdateItem adds to several. */
const USES = 'uses';
/** Settings added after a tenant was stored take their defaults, so old tenants keep working. */
function tenantFromItem(item: Item): Tenant {
  const tenant = toEntity<Tenant>(item);
  return { ...tenant, config: { ...DEFAULT_BILLING_CONFIG, ...tenant.config } };
}

function templateToItem(template: BillingTemplate): Item {
  const { variations, ...rest } = template;
  return {
    ...keys.template(template.tenantId, template.type),
    ...rest,
    variations: variations.map(({ timesUsed: _timesUsed, ...variation }) => variation),
    [USES]: Object.fromEntries(variations.map((v) => [v.id, v.timesUsed])),
  };
}

function templateFromItem(item: Item): BillingTemplate {
  const { [USES]: uses, variations, ...rest } = toEntity<Item>(item);
  const counts = (uses ?? {}) as Record<string, number>;
  return {
    ...(rest as Omit<BillingTemplate, 'variations'>),
    variations: (variations as Omit<TemplateVariation, 'timesUsed'>[]).map((v) => ({
      ...v,
      timesUsed: counts[v.id] ?? 0,
    })),
  };
}

/**
 * The Store on one DynamoDB table (key scheme: table-schema.ts, docs/data-model.md).
 * Every state change is one conditional single-item write: no transactions (dynalite has none),
 * and no reliance on items returned by a failed condition (dynalite returns none).
 */
export function createDynamoDbStore(options: DynamoDbStoreOptions): Store {
  const { client, tableName } = options;
  const clock = options.clock ?? systemClock;
  const onBackgroundError = options.onBackgroundError ?? (() => {});
  const { get, put, putNew, updateIfMatch, setIfExists, deleteIfMatch, queryAll } = tableOperations(
    client,
    tableName,
  );

  const queryTenantPartition = (tenantId: string, skPrefix: string) =>
    queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: { ':pk': keys.tenant(tenantId).pk, ':prefix': skPrefix },
      ConsistentRead: true,
    });

  /**
   * The stored item of a tenant's key id. Keys are keyed by hash (one GetItem on every request),
   * so finding one by id goes through the tenant's listing in GSI1; tenants hold a handful of keys.
   */
  const findApiKeyItem = async (tenantId: string, keyId: string): Promise<Item | undefined> => {
    const [item] = await queryAll({
      IndexName: GSI1.name,
      KeyConditionExpression: '#gpk = :gpk',
      FilterExpression: '#id = :id',
      ExpressionAttributeNames: { '#gpk': GSI1.pk, '#id': 'id' },
      ExpressionAttributeValues: { ':gpk': indexPartitions.apiKeys(tenantId), ':id': keyId },
    });
    return item;
  };

  /** Sets fields of a tenant's key, re-checking ownership in the write itself. */
  const updateTenantApiKey = async (tenantId: string, keyId: string, fields: Item): Promise<boolean> => {
    const found = await findApiKeyItem(tenantId, keyId);
    if (!found) return false;
    const names: Record<string, string> = { '#pk': PK, '#tenantId': 'tenantId', '#id': 'id' };
    const values: Item = { ':tenantId': tenantId, ':id': keyId };
    const sets = Object.entries(fields).map(([field, value], i) => {
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
      return `#f${i} = :f${i}`;
    });
    const out = await updateIfMatch({
      Key: keys.apiKey(String(found.keyHash)),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: 'attribute_exists(#pk) AND #tenantId = :tenantId AND #id = :id',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    return out !== undefined;
  };

  return {
    ...createDynamoDbCampaignStore({
      client,
      tableName,
      clock,
      batchRetryDelayMs: options.batchRetryDelayMs,
    }),
    ...createDynamoDbSendingStore({ client, tableName }),
    ...createDynamoDbQueueRunStore({ client, tableName, clock }),
    ...createDynamoDbInstanceLeaseStore({ client, tableName }),
    ...createDynamoDbMessageStore({ client, tableName, clock }),
    ...createDynamoDbQueueStatusRead({ client, tableName, clock }),
    ...createDynamoDbCounterStore({ client, tableName, clock }),
    ...createDynamoDbScheduleStore({ client, tableName }),
    ...createDynamoDbFeedbackStore({
      client,
      tableName,
      clock,
      batchRetryDelayMs: options.batchRetryDelayMs,
    }),
    ...createDynamoDbReceiptRecountStore({ client, tableName, clock }),
    ...createDynamoDbCallbackStore({ client, tableName, clock }),
    ...createDynamoDbRetentionStore({ client, tableName }),
    ...createDynamoDbDeliveryWatchStore({ client, tableName, clock }),
    ...createDynamoDbDebtorStore({ client, tableName, batchRetryDelayMs: options.batchRetryDelayMs }),

    async createTenant(tenant: Tenant) {
      const created = await putNew({ ...keys.tenant(tenant.id), ...keys.tenantsIndex(tenant.id), ...tenant });
      return created ? 'created' : 'exists';
    },

    async getTenant(tenantId: string) {
      const item = await get(keys.tenant(tenantId));
      return item ? tenantFromItem(item) : undefined;
    },

    async listTenants() {
      const items = await queryAll({
        IndexName: GSI1.name,
        KeyConditionExpression: '#gpk = :gpk',
        ExpressionAttributeNames: { '#gpk': GSI1.pk },
        ExpressionAttributeValues: { ':gpk': indexPartitions.tenants },
      });
      return items.map((item) => tenantFromItem(item));
    },

    async updateTenantConfig(tenantId: string, patch: Partial<BillingConfig>, at: string) {
      const names: Record<string, string> = { '#pk': PK, '#config': 'config', '#updatedAt': 'updatedAt' };
      const values: Item = { ':at': at };
      const sets = ['#updatedAt = :at'];
      Object.entries(withoutUndefined(patch)).forEach(([field, value], i) => {
        names[`#c${i}`] = field;
        values[`:c${i}`] = value;
        sets.push(`#config.#c${i} = :c${i}`);
      });
      const out = await updateIfMatch({
        Key: keys.tenant(tenantId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      });
      return out ? tenantFromItem(out) : undefined;
    },

    async createApiKey(key: ApiKey) {
      // The hash is the real uniqueness (conditional put); the id check guards against a reused id
      // within the tenant, which random ids make a programming error rather than a race.
      if (await findApiKeyItem(key.tenantId, key.id)) return 'exists';
      const created = await putNew({
        ...keys.apiKey(key.keyHash),
        ...keys.apiKeysIndex(key.tenantId, key.createdAt, key.id),
        ...key,
      });
      return created ? 'created' : 'exists';
    },

    async getApiKeyByHash(keyHash: string) {
      const item = await get(keys.apiKey(keyHash));
      return item ? toEntity<ApiKey>(item) : undefined;
    },

    async listApiKeys(tenantId: string) {
      const items = await queryAll({
        IndexName: GSI1.name,
        KeyConditionExpression: '#gpk = :gpk',
        ExpressionAttributeNames: { '#gpk': GSI1.pk },
        ExpressionAttributeValues: { ':gpk': indexPartitions.apiKeys(tenantId) },
        // gsi1sk starts with createdAt: descending order is newest first.
        ScanIndexForward: false,
      });
      return items.map((item) => toEntity<ApiKey>(item));
    },

    revokeApiKey(tenantId: string, keyId: string) {
      return updateTenantApiKey(tenantId, keyId, { isActive: false });
    },

    async recordApiKeyUse(keyHash: string, at: string, ip: string) {
      try {
        await updateIfMatch({
          Key: keys.apiKey(keyHash),
          UpdateExpression: 'ADD #count :one SET #at = :at, #ip = :ip',
          // A key deleted meanwhile must not come back as a stub item.
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: {
            '#pk': PK,
            '#count': 'usageCount',
            '#at': 'lastUsedAt',
            '#ip': 'lastUsedIp',
          },
          ExpressionAttributeValues: { ':one': 1, ':at': at, ':ip': ip },
        });
      } catch (error) {
        // Callers may fire and forget: a rejection here would be unhandled.
        onBackgroundError(error);
      }
    },

    async getApiKeyById(tenantId: string, keyId: string) {
      // The index may lag a rotation by a moment: a consistent read returns the current secrets.
      const found = await findApiKeyItem(tenantId, keyId);
      if (!found) return undefined;
      const item = await get(keys.apiKey(String(found.keyHash)));
      if (!item || item.tenantId !== tenantId || item.id !== keyId) return undefined;
      return toEntity<ApiKey>(item);
    },

    setApiKeySigningSecrets(tenantId: string, keyId: string, secrets: string[]) {
      return updateTenantApiKey(tenantId, keyId, { signingSecrets: secrets });
    },

    async putTemplate(template: BillingTemplate) {
      await put(templateToItem(template));
    },

    async getTemplate(tenantId: string, type: TemplateType) {
      const item = await get(keys.template(tenantId, type));
      return item ? templateFromItem(item) : undefined;
    },

    async listTemplates(tenantId: string) {
      const items = await queryTenantPartition(tenantId, 'TEMPLATE#');
      return items.map(templateFromItem);
    },

    async addVariationUses(tenantId: string, type: TemplateType, counts: Record<string, number>) {
      const entries = Object.entries(counts).filter(([, n]) => n !== 0);
      if (entries.length === 0) return;
      const names: Record<string, string> = { '#pk': PK, '#uses': USES };
      const values: Item = { ':zero': 0 };
      const sets = entries.map(([variationId, n], i) => {
        names[`#v${i}`] = variationId;
        values[`:n${i}`] = n;
        // if_not_exists covers a variation added after the template was stored.
        return `#uses.#v${i} = if_not_exists(#uses.#v${i}, :zero) + :n${i}`;
      });
      // A template deleted meanwhile is not recreated as a stub; its counts no longer matter.
      await updateIfMatch({
        Key: keys.template(tenantId, type),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
    },

    async putInstance(instance: WhatsAppInstance) {
      await put({ ...keys.instance(instance.tenantId, instance.id), ...instance });
    },

    async getInstance(tenantId: string, instanceId: string, options: { eventually?: boolean } = {}) {
      const item = await get(keys.instance(tenantId, instanceId), options);
      return item ? toEntity<WhatsAppInstance>(item) : undefined;
    },

    async deleteInstance(tenantId: string, instanceId: string) {
      return (await deleteIfMatch({ Key: keys.instance(tenantId, instanceId) })) !== undefined;
    },

    async listInstances(tenantId: string) {
      const items = await queryTenantPartition(tenantId, 'INSTANCE#');
      return items.map((item) => toEntity<WhatsAppInstance>(item));
    },

    async setInstanceConnectionState(tenantId: string, instanceId: string, state: ConnectionState) {
      // Webhooks may name an instance that was removed: nothing to update then.
      await setIfExists(keys.instance(tenantId, instanceId), 'connectionState', state);
    },

    async putCalendar(tenantId: string, calendar: BusinessCalendar) {
      await put({ ...keys.calendar(tenantId), ...calendar });
    },

    async getCalendar(tenantId: string) {
      const item = await get(keys.calendar(tenantId));
      return item ? toEntity<BusinessCalendar>(item) : undefined;
    },
  };
}
