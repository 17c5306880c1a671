import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LeaseHolder, SendingStore } from '../../ports/store.ts';
import { tableOperations } from './dynamodb-operations.ts';
import { keys } from './table-schema.ts';
import { Expression } from './update-expression.ts';

const nonEmptyText = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);

/** A held lease may send until its end; a free one sent last at `lastSendAt` (ISO strings sort in time order). */
const latestSendOf = (lease: Record<string, unknown>): string | null => {
  const held = nonEmptyText(lease.owner) ? nonEmptyText(lease.leaseUntil) : null;
  const last = nonEmptyText(lease.lastSendAt);
  return held !== null && (last === null || held > last) ? held : last;
};

/**
 * The instance lease on the single table (docs/data-model.md, Instance lease): one item per
 * WhatsApp instance (`keys.instanceLease`) that makes one pump at a time its sender, and carries
 * its pacing (`lastSendAt`) and the queue waiting for a turn across pumps. Each call is one
 * conditional UpdateItem (the acquire reads the item back only when it lost).
 */
export function createDynamoDbInstanceLeaseStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): Pick<
  SendingStore,
  | 'acquireInstanceLease'
  | 'renewInstanceLease'
  | 'releaseInstanceLease'
  | 'noteInstanceWaiter'
  | 'lastPossibleSendAt'
> {
  const { get, updateIfMatch } = tableOperations(options.client, options.tableName);
  return {
    async acquireInstanceLease(
      tenantId: string,
      instanceId: string,
      { owner, queueId }: LeaseHolder,
      now: string,
      until: string,
    ) {
      const e = new Expression();
      const [ownerName, untilName, me] = [e.name('owner'), e.name('leaseUntil'), e.value(owner)];
      e.set('owner', owner).set('leaseUntil', until).set('holderQueueId', queueId);
      // A released lease has no owner; an expired one compares below now (ISO strings sort in time order).
      const item = await updateIfMatch({
        Key: keys.instanceLease(tenantId, instanceId),
        ...e.update(
          `attribute_not_exists(${ownerName}) OR ${untilName} < ${e.value(now)} OR ${ownerName} = ${me}`,
        ),
      });
      const lease = item ?? (await get(keys.instanceLease(tenantId, instanceId))) ?? {};
      const waiterQueueId = nonEmptyText(lease.waiterQueueId);
      const waiterAt = nonEmptyText(lease.waiterAt);
      const heldUntil = nonEmptyText(lease.leaseUntil);
      return {
        acquired: item !== undefined,
        heldBy:
          item === undefined && heldUntil
            ? { queueId: nonEmptyText(lease.holderQueueId), until: heldUntil }
            : null,
        lastSendAt: nonEmptyText(lease.lastSendAt),
        lastHolderQueueId: nonEmptyText(lease.lastHolderQueueId),
        waiter: waiterQueueId && waiterAt ? { queueId: waiterQueueId, at: waiterAt } : null,
      };
    },

    async renewInstanceLease(
      tenantId: string,
      instanceId: string,
      owner: string,
      until: string,
      lastSendAt: string | null,
    ) {
      const e = new Expression().set('leaseUntil', until);
      if (lastSendAt !== null) e.set('lastSendAt', lastSendAt);
      const item = await updateIfMatch({
        Key: keys.instanceLease(tenantId, instanceId),
        ...e.update(`${e.name('owner')} = ${e.value(owner)}`),
        ReturnValues: 'NONE',
      });
      return item !== undefined;
    },

    async releaseInstanceLease(
      tenantId: string,
      instanceId: string,
      owner: string,
      lastSendAt: string | null,
      queueId: string,
    ) {
      const e = new Expression()
        .remove('owner', 'leaseUntil', 'holderQueueId')
        .set('lastHolderQueueId', queueId);
      if (lastSendAt !== null) e.set('lastSendAt', lastSendAt);
      // A lease already lost needs no release, and its new holder's pacing must not be overwritten.
      await updateIfMatch({
        Key: keys.instanceLease(tenantId, instanceId),
        ...e.update(`${e.name('owner')} = ${e.value(owner)}`),
        ReturnValues: 'NONE',
      });
    },

    async lastPossibleSendAt(tenantId: string, instanceId: string) {
      const lease = await get(keys.instanceLease(tenantId, instanceId));
      return lease ? latestSendOf(lease) : null;
    },

    async noteInstanceWaiter(tenantId: string, instanceId: string, queueId: string, at: string | null) {
      if (at !== null) {
        const e = new Expression().set('waiterQueueId', queueId).set('waiterAt', at);
        await updateIfMatch({
          Key: keys.instanceLease(tenantId, instanceId),
          ...e.update(),
          ReturnValues: 'NONE',
        });
        return;
      }
      // Only the waiter itself clears its note: a newer waiter's must stay.
      const e = new Expression().remove('waiterQueueId', 'waiterAt');
      await updateIfMatch({
        Key: keys.instanceLease(tenantId, instanceId),
        ...e.update(`${e.name('waiterQueueId')} = ${e.value(queueId)}`),
        ReturnValues: 'NONE',
      });
    },
  };
}
