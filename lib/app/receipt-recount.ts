import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { ReceiptCounterDeltas, ReceiptRecountStore } from '../ports/store.ts';

/**
 * Receipt counters that a lost write left off, made right (docs/data-model.md, Receipt recount).
 * A receipt writes its contact (the decision) and then the queue's counters; the invocation can die,
 * or the store be lost past the SDK's retries, between the two. The gateway then sends the webhook
 * again, and that retry finds the contact moved: a duplicate, the same as a repeat Evolution sends
 * on its own, so nothing at that moment tells whether the counters were written. Instead of a
 * second write on every receipt, a duplicate flags its queue (one small write, on the duplicate's
 * path only; a delivery check about to stall contacts flags it too), and the sweeper recounts the
 * flagged queue's receipt counters from its contacts once no receipt's counters write can still be
 * on its way: delivered, read and stalled, and on a completed queue sent, failed and unknown.
 */

/**
 * Longer than a receipt's counters write may land after its contact write: the webhook's function
 * runs at most API_TIMEOUT_SECONDS (29 s; its DynamoDB calls give up within about 21 s), and the
 * rest is room for the clocks of two processes. A recount waits until no contact of the queue had a
 * receipt written for this long, so the count it reads and the counters it corrects agree on every
 * receipt: each is either in both or lost for good.
 */
export const RECEIPT_RECOUNT_QUIET_MS = 2 * 60_000;

/** Flags recounted per sweep (the rest wait for the next one, a minute later). */
const PAGE = 100;
/** Recounting stops after this long, leaving the sweeper (50 s timeout in AWS) room; the rest stay due. */
const RECOUNT_BUDGET_MS = 15_000;

export interface ReceiptRecountDeps {
  store: ReceiptRecountStore;
  clock: Clock;
}

/** A duplicate receipt's (or a stalling check's) part: the queue's receipt counters get recounted once quiet. */
export const flagReceiptRecount = (deps: ReceiptRecountDeps, queueId: string, tenantId: string) =>
  deps.store.flagReceiptRecount(
    {
      queueId,
      tenantId,
      checkAt: new Date(deps.clock.now().getTime() + RECEIPT_RECOUNT_QUIET_MS).toISOString(),
    },
    randomUUID(),
  );

export interface ReceiptRecountResult {
  /** Flagged queues whose counters were compared with their contacts. */
  recounted: number;
  /** Of those, the queues whose counters were off and got corrected. */
  corrected: number;
}

/**
 * The sweeper's pass over due flags; a failure on one queue is logged and the others go on (the
 * failed one stays due and is recounted by the next sweep).
 */
export const recountDueReceipts = async (
  deps: ReceiptRecountDeps & { logger: Pick<Logger, 'error' | 'warn'> },
): Promise<ReceiptRecountResult> => {
  const started = deps.clock.now();
  const due = await deps.store.listDueReceiptRecounts(started.toISOString(), PAGE);
  const result: ReceiptRecountResult = { recounted: 0, corrected: 0 };
  for (const flag of due) {
    if (deps.clock.now().getTime() - started.getTime() > RECOUNT_BUDGET_MS) break;
    try {
      const outcome = await recountQueue(deps, flag.queueId, flag.token);
      if (outcome === 'matched' || outcome === 'corrected') result.recounted += 1;
      if (outcome === 'corrected') result.corrected += 1;
    } catch (error) {
      deps.logger.error('receipt recount failed', { queueId: flag.queueId, error: error as Error });
    }
  }
  return result;
};

type RecountOutcome = 'matched' | 'corrected' | 'not_quiet' | 'counters_moved' | 'queue_gone';

/**
 * One flagged queue:
 * 1. the counters, then the contacts (the tally): a receipt whose contact write is in the tally and
 *    whose counters write is not was lost, unless it is recent (its counters write may yet land);
 * 2. receipts not quiet for RECEIPT_RECOUNT_QUIET_MS: the flag moves to when they will be;
 * 3. the counters corrected by what the contacts say, only if no counter write came since the tally
 *    read them (else the flag stays due: the next sweep tallies again);
 * 4. the flag removed, unless a duplicate flagged the queue again meanwhile (its token moved).
 */
const recountQueue = async (
  deps: ReceiptRecountDeps & { logger: Pick<Logger, 'warn'> },
  queueId: string,
  token: string,
): Promise<RecountOutcome> => {
  const tally = await deps.store.tallyReceipts(queueId);
  if (!tally) {
    await deps.store.removeReceiptRecount(queueId, token);
    return 'queue_gone';
  }
  const now = deps.clock.now().getTime();
  const quietAt =
    tally.lastReceiptWriteAt === null ? 0 : Date.parse(tally.lastReceiptWriteAt) + RECEIPT_RECOUNT_QUIET_MS;
  if (quietAt > now) {
    await deps.store.rescheduleReceiptRecount(queueId, new Date(quietAt).toISOString());
    return 'not_quiet';
  }
  // Delivered and read only ever up: receipts only add to them, so a lost write leaves them short,
  // never high; fewer contacts than counted means contacts gone since (expired before their queue,
  // which finished after they settled), and the counters keep what they counted. Stalled counts
  // contacts stalled now, both ways.
  const { counted, stored } = tally;
  const deltas: ReceiptCounterDeltas = {
    contactsDelivered: Math.max(0, counted.delivered - stored.delivered),
    contactsRead: Math.max(0, counted.read - stored.read),
    contactsStalled: counted.stalled - stored.stalled,
  };
  // The counters a receipt shares with the sender (a failure, an unknown send a receipt settles),
  // once the sender is done with the queue for good and every contact is still there to count.
  if (tally.queue.status === 'completed' && tally.contactsCounted === tally.queue.totalContacts) {
    deltas.contactsSent = counted.sent - stored.sent;
    deltas.contactsFailed = counted.failed - stored.failed;
    deltas.contactsUnknown = counted.unknown - stored.unknown;
  }
  const off = Object.values(deltas).some((delta) => delta !== 0);
  if (off) {
    if (!(await deps.store.correctReceiptCounters(queueId, deltas, tally.countersVersion)))
      return 'counters_moved';
    deps.logger.warn('receipt counters corrected from the contacts', { queueId, ...deltas });
  }
  await deps.store.removeReceiptRecount(queueId, token);
  return off ? 'corrected' : 'matched';
};
