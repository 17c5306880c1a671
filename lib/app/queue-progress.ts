import type { BillingQueue, QueueCounter } from '../domain/types.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { CampaignStore, ContactSummary, SendingStore } from '../ports/store.ts';

type CounterDeltas = Partial<Record<QueueCounter, number>>;

/**
 * The pump's counter changes not yet written. They go out in the one progress write made right
 * before the next claim, whose answer is also the freshest status: a pause or cancel that came
 * during the pacing wait wins before the next send, with no extra read. Whatever is left is
 * written on every way out (`flushIfAny`), and completion recounts from the contacts.
 */
export class ProgressBuffer {
  readonly #deps: { store: SendingStore; metrics: Metrics };
  readonly #queue: Pick<BillingQueue, 'id' | 'tenantId'>;
  readonly #currentRate: () => number;
  #pending: CounterDeltas = {};

  /** `currentRate` gives the measured rate (messages per minute) each write records. */
  constructor(
    deps: { store: SendingStore; metrics: Metrics },
    queue: Pick<BillingQueue, 'id' | 'tenantId'>,
    currentRate: () => number,
  ) {
    this.#deps = deps;
    this.#queue = queue;
    this.#currentRate = currentRate;
  }

  add(deltas: CounterDeltas): void {
    for (const [name, value] of Object.entries(deltas) as Array<[QueueCounter, number]>) {
      this.#pending[name] = (this.#pending[name] ?? 0) + value;
    }
  }

  /** Writes the pending counters and the measured rate; returns the queue after the write. */
  async flush(): Promise<BillingQueue | undefined> {
    const deltas = this.#pending;
    this.#pending = {};
    const { id: queueId, tenantId } = this.#queue;
    const updated = await this.#deps.store.updateQueueProgress(queueId, deltas, {
      currentRate: this.#currentRate(),
    });
    if (updated) this.#deps.metrics.sendRate({ tenantId, queueId, perMinute: updated.currentRate });
    return updated;
  }

  /** Writes the pending counters, if there are any. */
  async flushIfAny(): Promise<void> {
    if (Object.keys(this.#pending).length > 0) await this.flush();
  }
}

/**
 * Sets the counters the sender owns to what the contacts say (a strongly consistent read of the
 * queue's contacts, or the one the caller just made): a counter write lost in a crash cannot leave
 * the status lying. Receipt counters (delivered, read, replied) belong to the webhooks.
 */
export const recountCounters = async (
  deps: { store: SendingStore & CampaignStore },
  queue: BillingQueue,
  summary?: ContactSummary,
): Promise<BillingQueue | undefined> => {
  const { byStatus, failedAfterSend, deferred } = summary ?? (await deps.store.summarizeContacts(queue.id));
  const n = (status: keyof typeof byStatus) => byStatus[status] ?? 0;
  const exact: CounterDeltas = {
    contactsSent: n('sent') + n('delivered') + n('read') + failedAfterSend,
    contactsFailed: n('failed'),
    contactsPendingRetry: n('retry'),
    contactsCancelled: n('cancelled'),
    contactsUnknown: n('unknown'),
    contactsSkipped: n('skipped_opt_out'),
    contactsDeferred: deferred,
  };
  const current = (await deps.store.getQueue(queue.id)) ?? queue;
  const deltas: CounterDeltas = {};
  for (const [name, value] of Object.entries(exact) as Array<[QueueCounter, number]>) {
    // A counter added after the queue was stored is absent: zero.
    const stored = current[name] ?? 0;
    if (stored !== value) deltas[name] = value - stored;
  }
  return Object.keys(deltas).length ? deps.store.updateQueueProgress(queue.id, deltas) : current;
};
