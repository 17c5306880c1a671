import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isStalled } from '../../domain/delivery-stall.ts';
import { shouldApplyReceipt } from '../../domain/queue-state.ts';
import { CONTACT_STATUSES, type ContactStatus, type OptOut, type ReceiptStatus } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { FeedbackStore } from '../../ports/store.ts';
import { newReceiptMark, RECEIPT_FROM, RECEIPT_MARK } from './contact-item.ts';
import { type Item, tableOperations, toEntity } from './dynamodb-operations.ts';
import { decodeCursor, encodeCursor, invalidCursor } from './page-cursor.ts';
import { GSI1, indexPartitions, keys, PK } from './table-schema.ts';

export interface DynamoDbFeedbackStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Dates each receipt's write in its mark (the receipt recount waits until none is recent). */
  clock: Clock;
  /** First wait before asking again for a BatchGetItem's unprocessed keys (doubles each try); default 50 ms. */
  batchRetryDelayMs?: number;
}

/** Attributes an opt-out item carries besides its keys (everything else is the table's). */
const OPT_OUT_FIELDS = ['tenantId', 'phone', 'source', 'reason', 'at'] as const;

/** The marker's attribute counting the tenant's stored opt-outs (absent on a marker from before it: 0). */
const OPT_OUT_STAMP = 'stamp';

/**
 * A marker's stamp as `optOutStamp` answers it: 0 without opt-outs, else one more than the count of
 * opt-outs stored since the stamp existed (a marker from before it says `any` alone: 1).
 */
const stampOf = (marker: Item): number =>
  marker.any === true ? 1 + (typeof marker[OPT_OUT_STAMP] === 'number' ? marker[OPT_OUT_STAMP] : 0) : 0;

/** The statuses a receipt may move a contact from: allowed by the state machine and forward in rank. */
const fromStatuses = (receipt: ReceiptStatus): ContactStatus[] =>
  CONTACT_STATUSES.filter((status) => shouldApplyReceipt(status, receipt));

const toOptOut = (item: Item): OptOut => {
  const entity = toEntity<Record<string, unknown>>(item);
  return Object.fromEntries(OPT_OUT_FIELDS.map((field) => [field, entity[field]])) as unknown as OptOut;
};

/** An opt-out listing cursor `{ o }`: the last returned gsi1 sort key (`<at>#<phone>`). */
const decodeOptOutCursor = (cursor: string): string => {
  const parsed = decodeCursor(cursor);
  const { o } = parsed;
  if (typeof o !== 'string' || Object.keys(parsed).length !== 1 || !o.includes('#')) throw invalidCursor();
  return o;
};

/**
 * A receipt applied over `previous`, as the contact's item shows it (the old image, or the item
 * its own write left: the attributes read here are the same in both, but for the status).
 */
const appliedReceipt = (item: Item, previous: ContactStatus) => ({
  applied: true as const,
  previous,
  wasStalled: isStalled({
    status: previous,
    serverAckAt: item.serverAckAt as string | undefined,
    stalledAt: item.stalledAt as string | undefined,
  }),
  // Plain attributes of the item (only its texts are packed): no inflating here.
  contact: {
    phone: String(item.phone),
    name: String(item.name),
    invoiceNumber: typeof item.invoiceNumber === 'string' ? item.invoiceNumber : null,
    providerMessageId: typeof item.providerMessageId === 'string' ? item.providerMessageId : null,
  },
});

/**
 * Receipts, replies and opt-outs on the single table. A receipt is one conditional UpdateItem on the
 * contact whose condition lists the statuses it may move from, so duplicates and reordering can never
 * move a status backwards, and `UPDATED_OLD` tells the caller the status it replaced (to count it once).
 */
export function createDynamoDbFeedbackStore(options: DynamoDbFeedbackStoreOptions): FeedbackStore {
  const { get, putNew, updateIfMatch, deleteIfMatch, queryUpTo, batchGet } = tableOperations(
    options.client,
    options.tableName,
    options,
  );

  const hasOptOuts = async (tenantId: string): Promise<boolean> => {
    const marker = await get(keys.optOutMarker(tenantId));
    if (marker) return marker.any === true;
    // A tenant from before the marker: its listing answers once, and the answer is kept unless
    // an opt-out wrote the marker meanwhile (then that one stands).
    const listed = await queryUpTo(
      {
        IndexName: GSI1.name,
        KeyConditionExpression: '#gpk = :gpk',
        ExpressionAttributeNames: { '#gpk': GSI1.pk },
        ExpressionAttributeValues: { ':gpk': indexPartitions.optOuts(tenantId) },
      },
      1,
    );
    const any = listed.length > 0;
    await putNew({ ...keys.optOutMarker(tenantId), any });
    return any;
  };

  return {
    async applyReceipt(queueId, position, receipt, at, error, send) {
      const from = fromStatuses(receipt);
      const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt' };
      const values: Item = {
        ':to': receipt,
        ':at': at,
        ...Object.fromEntries(from.map((status, i) => [`:from${i}`, status])),
      };
      const sets = ['#status = :to', '#updatedAt = :at'];
      // A read that comes first implies the delivery, but not its time: deliveredAt stays as it was.
      if (receipt === 'delivered') {
        names['#deliveredAt'] = 'deliveredAt';
        sets.push('#deliveredAt = :at');
      }
      if (receipt === 'read') {
        names['#readAt'] = 'readAt';
        sets.push('#readAt = :at');
      }
      if (send) {
        // A contact whose send record was cut off (unknown) gets its message's id and time; a sent
        // one keeps its own.
        names['#providerMessageId'] = 'providerMessageId';
        names['#sentAt'] = 'sentAt';
        values[':mid'] = send.providerMessageId;
        values[':sentAt'] = send.sentAt;
        sets.push(
          '#providerMessageId = if_not_exists(#providerMessageId, :mid)',
          '#sentAt = if_not_exists(#sentAt, :sentAt)',
        );
      }
      names['#lastError'] = 'lastError';
      names['#lastErrorAt'] = 'lastErrorAt';
      let removes = '';
      if (receipt === 'failed') {
        values[':error'] = error ?? 'falha de entrega informada pelo WhatsApp';
        sets.push('#lastError = :error', '#lastErrorAt = :at');
      } else {
        // A delivery or a read proves the send: an unknown outcome's error no longer stands (a send's
        // own record drops it too). On a sent contact there is none to remove.
        names['#lastErrorCode'] = 'lastErrorCode';
        removes = ' REMOVE #lastError, #lastErrorAt, #lastErrorCode';
      }
      // This write's mark and the status it replaces (operands read the item before the update): a
      // retry of the request whose first answer was lost finds its own write by the mark, and counts
      // the receipt from the status it replaced, as that answer would have said.
      const mark = newReceiptMark(options.clock.now());
      names[`#${RECEIPT_MARK}`] = RECEIPT_MARK;
      names[`#${RECEIPT_FROM}`] = RECEIPT_FROM;
      values[':mark'] = mark;
      sets.push(`#${RECEIPT_FROM} = #status`, `#${RECEIPT_MARK} = :mark`);
      const key = keys.contact(queueId, position);
      const old = await updateIfMatch({
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')}${removes}`,
        ConditionExpression: `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        // The whole old item: its status to count the receipt once, and whether it was stalled.
        ReturnValues: 'ALL_OLD',
      });
      if (old) return appliedReceipt(old, old.status as ContactStatus);
      // dynalite returns no item on a failed condition: read what refused it.
      const current = await get(key);
      if (current?.[RECEIPT_MARK] === mark)
        return appliedReceipt(current, current[RECEIPT_FROM] as ContactStatus);
      return { applied: false, current: current?.status as ContactStatus | undefined };
    },

    async markContactReplied(queueId, position, at) {
      const updated = await updateIfMatch({
        Key: keys.contact(queueId, position),
        UpdateExpression: 'SET #repliedAt = :at',
        ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#repliedAt)',
        ExpressionAttributeNames: { '#pk': PK, '#repliedAt': 'repliedAt' },
        ExpressionAttributeValues: { ':at': at },
        ReturnValues: 'NONE',
      });
      return updated !== undefined;
    },

    async putOptOut(optOut) {
      const marker = keys.optOutMarker(optOut.tenantId);
      // The marker first: a reader that sees the opt-out can never see "no opt-outs". An update,
      // not a put, so the stamp it carries stays.
      await updateIfMatch({
        Key: marker,
        UpdateExpression: 'SET #any = :any',
        ExpressionAttributeNames: { '#any': 'any' },
        ExpressionAttributeValues: { ':any': true },
        ReturnValues: 'NONE',
      });
      const created = await putNew({
        ...keys.optOut(optOut.tenantId, optOut.phone),
        ...keys.optOutsIndex(optOut.tenantId, optOut.at, optOut.phone),
        tenantId: optOut.tenantId,
        phone: optOut.phone,
        source: optOut.source,
        reason: optOut.reason,
        at: optOut.at,
      });
      // The stamp after the item: a pump that sees the new stamp and then looks its phones up
      // finds this opt-out. Moved on a repeat too, so a retry after a failure right before this
      // write still tells the pumps.
      await updateIfMatch({
        Key: marker,
        UpdateExpression: 'SET #any = :any ADD #stamp :one',
        ExpressionAttributeNames: { '#any': 'any', '#stamp': OPT_OUT_STAMP },
        ExpressionAttributeValues: { ':any': true, ':one': 1 },
        ReturnValues: 'NONE',
      });
      return created ? 'created' : 'exists';
    },

    async getOptOut(tenantId, phone) {
      const item = await get(keys.optOut(tenantId, phone));
      return item ? toOptOut(item) : undefined;
    },

    async deleteOptOut(tenantId, phone) {
      return (await deleteIfMatch({ Key: keys.optOut(tenantId, phone) })) !== undefined;
    },

    hasOptOuts,

    async optOutStamp(tenantId) {
      const marker = await get(keys.optOutMarker(tenantId));
      if (marker) return stampOf(marker);
      // A tenant from before the marker: learnt once from its listing (as hasOptOuts does).
      return (await hasOptOuts(tenantId)) ? 1 : 0;
    },

    async findOptedOut(tenantId, phones) {
      const unique = [...new Set(phones)];
      const items = await batchGet(
        unique.map((phone) => keys.optOut(tenantId, phone)),
        'phone',
      );
      return new Set(items.map((item) => String(item.phone)));
    },

    async listOptOuts(tenantId, page) {
      const after = page.cursor === undefined ? undefined : decodeOptOutCursor(page.cursor);
      // `<at>#<phone>` descending: newest first. One more than a page tells whether a next one exists.
      const items = await queryUpTo(
        {
          IndexName: GSI1.name,
          KeyConditionExpression: after === undefined ? '#gpk = :gpk' : '#gpk = :gpk AND #gsk < :after',
          ExpressionAttributeNames: {
            '#gpk': GSI1.pk,
            ...(after === undefined ? {} : { '#gsk': GSI1.sk }),
          },
          ExpressionAttributeValues: {
            ':gpk': indexPartitions.optOuts(tenantId),
            ...(after === undefined ? {} : { ':after': after }),
          },
          ScanIndexForward: false,
        },
        page.limit + 1,
      );
      const shown = items.slice(0, page.limit);
      const last = shown[shown.length - 1];
      return {
        items: shown.map(toOptOut),
        nextCursor: items.length > page.limit && last ? encodeCursor({ o: String(last[GSI1.sk]) }) : null,
      };
    },
  };
}
