import type { DynamoDBDocumentClient, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type {
  BillingContact,
  CancelReason,
  ContactSendResult,
  ContactStatus,
  SendFailureCode,
} from '../../domain/types.ts';
import type {
  CancelledOnItsOwn,
  FailedContact,
  SendingStore,
  SentContact,
  WaitingStatus,
} from '../../ports/store.ts';
import { contactPositionOf } from './contact-item.ts';
import { messageItem } from './dynamodb-message-store.ts';
import { type Item, mapBounded, tableOperations, toEntity } from './dynamodb-operations.ts';
import { checkLimit } from './page-cursor.ts';
import { GSI1, keys, PK, SK } from './table-schema.ts';
import { Expression, setExpiry } from './update-expression.ts';

/**
 * The part of the Store the sender uses for contacts: design section 5, Send. The queue's writes are
 * dynamodb-queue-run-store.ts, the pump's status read dynamodb-queue-status.ts, the instance lease
 * dynamodb-instance-lease-store.ts, the conversation history dynamodb-message-store.ts.
 */
type DynamoDbSendingPart = Omit<
  SendingStore,
  | 'listDueQueues'
  | 'getQueueStatus'
  | 'acquireInstanceLease'
  | 'renewInstanceLease'
  | 'releaseInstanceLease'
  | 'noteInstanceWaiter'
  | 'lastPossibleSendAt'
  | 'transitionQueue'
  | 'updateQueueProgress'
  | 'addToQueueCounters'
  | 'nextPublishGeneration'
>;

export interface DynamoDbSendingStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

/** How a contact waited, from its item before a write that moved it out of pending or retry. */
export const waitingStatusOf = (before: Item | undefined): WaitingStatus | undefined => {
  if (before?.status === 'pending') return 'pending';
  if (before?.status === 'retry') return before.deferred === true ? 'deferred' : 'retry';
  return undefined;
};

/** Highest batch position a contact key can hold (4 digits, see table-schema.ts). */
const MAX_POSITION = 9_999;
/** Conditional updates in flight at once when cancelling a queue's contacts. */
const CANCEL_CONCURRENCY = 10;
/** GetItems in flight at once when confirming stuck contacts. */
const CONFIRM_CONCURRENCY = 10;
/** Smallest Query page when looking for sendable contacts: fewer round trips past filtered-out contacts. */
const MIN_SCAN_PAGE = 25;
/** The claimed contact as sent with the gateway's ids (what `recordSent` leaves it as). */
export function sentContact(
  claimed: BillingContact,
  result: Extract<ContactSendResult, { status: 'sent' }>,
): BillingContact {
  const { retryAt: _retryAt, deferred: _deferred, ...contact } = claimed;
  return {
    ...contact,
    status: 'sent',
    providerMessageId: result.providerMessageId,
    sentAt: result.at,
    lastError: null,
    lastErrorAt: null,
    updatedAt: result.at,
  };
}

/**
 * The conditional UpdateItem that cancels a contact not sent yet (`pending` or `retry`), to expire at
 * `expiresAt`: a contact claimed meanwhile fails the condition and is left to its pump. `reason` when
 * it is cancelled on its own (a paid invoice, an erased debtor), none when its whole queue is.
 */
export function unsentContactCancellation(
  queueId: string,
  position: number,
  at: string,
  expiresAt: string,
  reason?: CancelReason,
): Pick<UpdateCommandInput, 'Key' | 'UpdateExpression' | 'ConditionExpression'> &
  ReturnType<Expression['update']> {
  const e = new Expression()
    .set('status', 'cancelled')
    .set('updatedAt', at)
    // A deferred reminder (a retry the frequency cap set) is no longer waiting either.
    .remove('retryAt', 'deferred');
  // Settled: it expires with the tenant's retention, as every settling write does.
  setExpiry(e, expiresAt);
  if (reason) e.set('cancelReason', reason);
  return {
    Key: keys.contact(queueId, position),
    ...e.update(`${e.name('status')} IN (${e.value('pending')}, ${e.value('retry')})`),
  };
}

/**
 * The sender's side of the Store for contacts on the single table (docs/data-model.md: Contact; its
 * sends' Message items through messageItem). Every state change is one conditional single-item
 * write; the per-message path (claim, record, finish) is exactly one request each.
 */
export function createDynamoDbSendingStore(options: DynamoDbSendingStoreOptions): DynamoDbSendingPart {
  const { get, put, updateIfMatch, queryAll, queryUpTo } = tableOperations(options.client, options.tableName);

  /**
   * The queue's contacts from `fromPosition` on, in batch order, that pass `filter` (base table,
   * strongly consistent unless `consistent` is false). Stops once `limit` matched. The sort key
   * range (not begins_with) keeps the queue item itself out: it sorts after the contacts and has a
   * `status` too.
   */
  const queryContacts = async (
    queueId: string,
    fromPosition: number,
    filter: { expression: string; names: Record<string, string>; values: Item },
    limit = Number.POSITIVE_INFINITY,
    consistent = true,
  ): Promise<Item[]> => {
    if (fromPosition > MAX_POSITION) return [];
    return queryUpTo(
      {
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        FilterExpression: filter.expression,
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK, ...filter.names },
        ExpressionAttributeValues: {
          ':pk': keys.queue(queueId).pk,
          ':from': keys.contact(queueId, fromPosition).sk,
          ':to': keys.contact(queueId, MAX_POSITION).sk,
          ...filter.values,
        },
        ConsistentRead: consistent,
      },
      limit,
      // Limit counts items read before the filter; a page a little larger than asked saves round trips.
      Number.isFinite(limit) ? { pageSize: Math.max(limit, MIN_SCAN_PAGE) } : {},
    );
  };

  return {
    async listSendableContacts(queueId: string, now: string, limit: number, afterPosition?: number) {
      checkLimit('listSendableContacts', limit);
      const items = await queryContacts(
        queueId,
        afterPosition === undefined ? 0 : afterPosition + 1,
        {
          expression: '#status = :pending OR (#status = :retry AND #retryAt <= :now)',
          names: { '#status': 'status', '#retryAt': 'retryAt' },
          values: { ':pending': 'pending', ':retry': 'retry', ':now': now },
        },
        limit,
        // From the top, strongly consistent: it may hold contacts this pump or the one before just
        // sent. After a position (the pump's next page), eventually consistent: half the price, on
        // contacts no pump has touched lately (docs/data-model.md, Contact).
        afterPosition === undefined,
      );
      return items.map((item) => toEntity<BillingContact>(item));
    },

    async summarizeContacts(queueId: string) {
      // The base table, strongly consistent: this read decides that a queue is finished.
      const items = await queryContacts(queueId, 0, {
        expression: 'attribute_exists(#status)',
        names: { '#status': 'status' },
        values: {},
      });
      const byStatus: Partial<Record<ContactStatus, number>> = {};
      let deferred = 0;
      let earliestRetryAt: string | null = null;
      const sending: BillingContact[] = [];
      const sent: SentContact[] = [];
      const failed: FailedContact[] = [];
      const cancelled: CancelledOnItsOwn[] = [];
      for (const item of items) {
        const status = item.status as ContactStatus;
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        if (status === 'retry' && item.deferred === true) deferred += 1;
        if (
          status === 'retry' &&
          typeof item.retryAt === 'string' &&
          (earliestRetryAt === null || item.retryAt < earliestRetryAt)
        )
          earliestRetryAt = item.retryAt;
        if (status === 'sending') sending.push(toEntity<BillingContact>(item));
        if (typeof item.providerMessageId === 'string' && typeof item.sentAt === 'string')
          sent.push({
            position: contactPositionOf(item),
            sentAt: item.sentAt,
            providerMessageId: item.providerMessageId,
          });
        if (
          (status === 'failed' || status === 'unknown') &&
          typeof item.lastErrorCode === 'string' &&
          typeof item.lastErrorAt === 'string'
        )
          failed.push({
            position: contactPositionOf(item),
            status,
            failedAt: item.lastErrorAt,
            code: item.lastErrorCode as SendFailureCode,
            error: typeof item.lastError === 'string' ? item.lastError : null,
          });
        if (status === 'cancelled' && typeof item.cancelReason === 'string')
          cancelled.push({
            position: contactPositionOf(item),
            reason: item.cancelReason as CancelReason,
            cancelledAt: String(item.updatedAt),
          });
      }
      return { byStatus, deferred, earliestRetryAt, sending, sent, failed, cancelled };
    },

    async claimContact(queueId: string, position: number, now: string) {
      const e = new Expression();
      const [status, retryAt] = [e.name('status'), e.name('retryAt')];
      e.set('status', 'sending')
        .setRaw('attempts', `if_not_exists(${e.name('attempts')}, ${e.value(0)}) + ${e.value(1)}`)
        .set('updatedAt', now)
        .set('claimedAt', now)
        // The retry time is spent; finishContact sets a new one if the attempt asks for a retry.
        .remove('retryAt')
        // A contact written before contacts left gsi1 leaves it here, once: its index copy would
        // otherwise be rewritten by every later write (contacts are in no index any more).
        .remove(GSI1.pk, GSI1.sk);
      const item = await updateIfMatch(
        {
          Key: keys.contact(queueId, position),
          ...e.update(
            `${status} = ${e.value('pending')} OR (${status} = ${e.value('retry')} AND ${retryAt} <= ${e.value(now)})`,
          ),
        },
        // A retry that finds this claim's own mark: refused, the contact would stay `sending` and be
        // settled unknown, never sent. A claim of another pump carries its own time.
        (current) => current.status === 'sending' && current.claimedAt === now,
      );
      return item ? toEntity<BillingContact>(item) : undefined;
    },

    async finishContact(
      queueId: string,
      position: number,
      result: ContactSendResult,
      expiresAt: string | null,
      claimedAt?: string,
    ) {
      // The attempt is over: whatever it held back for, a deferral is spent.
      const e = new Expression().set('status', result.status).set('updatedAt', result.at).remove('deferred');
      setExpiry(e, expiresAt);
      switch (result.status) {
        case 'sent':
          e.set('providerMessageId', result.providerMessageId)
            .set('sentAt', result.at)
            // A contact stores no null: an absent field reads as null (contact-item.ts).
            .remove('lastError', 'lastErrorAt');
          break;
        case 'retry':
          e.set('lastError', result.error).set('lastErrorAt', result.at).set('retryAt', result.retryAt);
          break;
        case 'failed':
        case 'unknown':
          e.set('lastError', result.error).set('lastErrorAt', result.at).set('lastErrorCode', result.code);
          break;
        case 'pending':
        case 'skipped_opt_out':
          // Released before the gateway was called: the claim's attempt never happened.
          e.add('attempts', -1);
          break;
      }
      const stillSending = `${e.name('status')} = ${e.value('sending')}`;
      const item = await updateIfMatch(
        {
          Key: keys.contact(queueId, position),
          ...e.update(
            claimedAt === undefined
              ? stillSending
              : `${stillSending} AND ${e.name('claimedAt')} = ${e.value(claimedAt)}`,
          ),
          ReturnValues: 'NONE',
        },
        (current) =>
          current.status === result.status &&
          current.updatedAt === result.at &&
          (claimedAt === undefined || current.claimedAt === claimedAt),
      );
      return item !== undefined;
    },

    async skipOptedOutContact(queueId: string, position: number, at: string, expiresAt: string) {
      const e = new Expression()
        .set('status', 'skipped_opt_out')
        .set('updatedAt', at)
        .remove('retryAt', 'deferred');
      setExpiry(e, expiresAt);
      const status = e.name('status');
      // ALL_OLD: the status it left tells the caller which waiting counter gives it up.
      const before = await updateIfMatch({
        Key: keys.contact(queueId, position),
        ...e.update(`${status} IN (${e.value('pending')}, ${e.value('retry')})`),
        ReturnValues: 'ALL_OLD',
      });
      return waitingStatusOf(before);
    },

    async deferContact(queueId: string, position: number, until: string, at: string) {
      const e = new Expression()
        .set('status', 'retry')
        .set('retryAt', until)
        .set('deferred', true)
        .set('updatedAt', at);
      const before = await updateIfMatch({
        Key: keys.contact(queueId, position),
        ...e.update(`${e.name('status')} IN (${e.value('pending')}, ${e.value('retry')})`),
        ReturnValues: 'ALL_OLD',
      });
      return waitingStatusOf(before);
    },

    async listStuckContacts(queueId: string) {
      // Called once per pump run, before its first claim. Candidates: the queue's contacts read
      // eventually consistent (half the price; the filter still bills every contact read, so only the
      // sort key comes back), each confirmed by a consistent read that it is still `sending`. A claim
      // younger than the read may be missed: summarizeContacts finds it before the queue can complete.
      const candidates = await queryAll({
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        FilterExpression: '#status = :sending',
        ProjectionExpression: '#sk',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#status': 'status' },
        ExpressionAttributeValues: {
          ':pk': keys.queue(queueId).pk,
          ':from': keys.contact(queueId, 0).sk,
          ':to': keys.contact(queueId, MAX_POSITION).sk,
          ':sending': 'sending',
        },
      });
      const confirmed = await mapBounded(candidates, CONFIRM_CONCURRENCY, (candidate) =>
        get(keys.contact(queueId, contactPositionOf(candidate))),
      );
      return confirmed
        .filter((item): item is Item => item?.status === 'sending')
        .map((item) => toEntity<BillingContact>(item));
    },

    async cancelUnsentContacts(queueId: string, at: string, expiresAt: string) {
      const unsent = await queryContacts(queueId, 0, {
        expression: '#status IN (:pending, :retry)',
        names: { '#status': 'status' },
        values: { ':pending': 'pending', ':retry': 'retry' },
      });
      const changed = await mapBounded(unsent, CANCEL_CONCURRENCY, async (item) => {
        // Re-checked on the item: a contact claimed since the Query is left to its pump.
        const before = await updateIfMatch({
          ...unsentContactCancellation(queueId, contactPositionOf(item), at, expiresAt),
          ReturnValues: 'ALL_OLD',
        });
        return waitingStatusOf(before);
      });
      const deferred = changed.filter((status) => status === 'deferred').length;
      return {
        cancelled: changed.filter((status) => status !== undefined).length,
        fromRetry: changed.filter((status) => status === 'retry').length + deferred,
        fromDeferred: deferred,
      };
    },

    async recordSent(claimed, result, message, expiresAt) {
      // The message first: it went out either way, and the history and the gateway-id pointer keep
      // it. A crash between the two writes then leaves a contact still `sending` (settled as unknown,
      // never resent) beside its message, never a `sent` contact whose receipts find no message.
      await put(messageItem(message, expiresAt));
      // Only what changes (`sentContact` says what the contact becomes): the item stays as small as
      // it was, and a write is billed by its item's size.
      const e = new Expression()
        .set('status', 'sent')
        .set('providerMessageId', result.providerMessageId)
        .set('sentAt', result.at)
        .set('updatedAt', result.at)
        .remove('retryAt', 'deferred', 'lastError', 'lastErrorAt');
      // In the write that settles the contact: retention costs the send no extra request.
      setExpiry(e, expiresAt);
      // Only this claim may record its send: a pump that lost its lease must not overwrite what the
      // new holder decided about the contact (unknown, say), or the counters would count it twice.
      const recorded =
        (await updateIfMatch(
          {
            Key: keys.contact(claimed.queueId, claimed.position),
            ...e.update(
              `${e.name('status')} = ${e.value('sending')} AND ${e.name('claimedAt')} = ${e.value(claimed.claimedAt ?? null)}`,
            ),
            ReturnValues: 'NONE',
          },
          // This send's message id, whatever receipts did with the contact since.
          (current) => current.providerMessageId === result.providerMessageId,
        )) !== undefined;
      return recorded;
    },
  };
}
