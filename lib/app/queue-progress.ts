import {
  addFigures,
  type Figures,
  figuresOfCounterDeltas,
  hasFigures,
  hourStartOf,
} from '../domain/activity-figures.ts';
import type { BillingQueue, QueueCounter, QueueStatus } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { CampaignStore, ContactSummary, CounterStore, SendingStore } from '../ports/store.ts';
import { countTenantFigures } from './tenant-figures.ts';

type CounterDeltas = Partial<Record<QueueCounter, number>>;

/**
 * The tenant's figures (sends, failures) go out with a counter flush at most this often (and on every
 * way out of the run), so they cost one write per hour bucket per interval, not one per message.
 */
export const FIGURES_FLUSH_INTERVAL_MS = 60_000;

/**
 * The queue's counters are written once this many counted contact writes (sends, failures, skips,
 * deferrals) are pending, or once COUNTERS_FLUSH_INTERVAL_MS has passed since the last write,
 * whichever comes first, and on every way out of a run. A counter write costs 1 write unit (the
 * queue's counters item, which has no index key) and a status read; 10 brings that to about 0.1
 * write units per message. At the default
 * pace (20/min) both limits meet at about 30 s (every other flush carries the figures); at faster paces the status
 * lags by at most 10 sends, at slower ones (an interval of 30 s or more) every send is written.
 */
export const COUNTERS_FLUSH_EVERY_SENDS = 10;
/** The longest a pending counter change waits for its write while the run goes on (see above). */
export const COUNTERS_FLUSH_INTERVAL_MS = 30_000;

/**
 * The pump's counter changes not yet written. Before each send the pump asks for the queue's status
 * (`statusBeforeSend`): when the counters are due (COUNTERS_FLUSH_EVERY_SENDS changes or
 * COUNTERS_FLUSH_INTERVAL_MS) the progress write answers it (with the queue item it reads
 * alongside), else a strongly consistent read of the queue's status does, so a pause or cancel that came during the pacing
 * wait wins before the next send either way. Whatever is left is written on every way out
 * (`flushIfAny`). Never lost: every change is on its contact before it is here, so a run that dies
 * with changes unwritten leaves its queue `running` and the next run recounts from the contacts
 * (`recountCounters`, run-queue.ts `startRunning`), as completion does. A run that lost its lease
 * is such a run: it forgets its changes (`forgetCounters`), which the taker recounts.
 *
 * The same changes are the events of the tenant's figures (tenant-figures.ts), kept by the hour they
 * happened in and written with a flush once FIGURES_FLUSH_INTERVAL_MS has passed since the last
 * (or when an hour has ended), one write per hour bucket. A recount never adds to them: an event is
 * counted once, when its contact's write was accepted, or not at all if the process dies first.
 */
export class ProgressBuffer {
  readonly #deps: { store: SendingStore & CounterStore; metrics: Metrics; clock: Clock };
  readonly #queue: Pick<BillingQueue, 'id' | 'tenantId'>;
  readonly #currentRate: () => number;
  #pending: CounterDeltas = {};
  /** Contact writes whose counter changes are in `#pending`. */
  #pendingChanges = 0;
  #countersWrittenAt: number;
  /** The tenant's figures not yet written, by the start of their UTC hour (ms). */
  #figures = new Map<number, Partial<Figures>>();
  #figuresWrittenAt: number;

  /** `currentRate` gives the measured rate (messages per minute) each write records. */
  constructor(
    deps: { store: SendingStore & CounterStore; metrics: Metrics; clock: Clock },
    queue: Pick<BillingQueue, 'id' | 'tenantId'>,
    currentRate: () => number,
  ) {
    this.#deps = deps;
    this.#queue = queue;
    this.#currentRate = currentRate;
    this.#figuresWrittenAt = deps.clock.now().getTime();
    this.#countersWrittenAt = this.#figuresWrittenAt;
  }

  /** Counter changes of a contact write that succeeded at `at` (the events of the tenant's figures). */
  add(deltas: CounterDeltas, at: Date): void {
    for (const [name, value] of Object.entries(deltas) as Array<[QueueCounter, number]>) {
      this.#pending[name] = (this.#pending[name] ?? 0) + value;
    }
    this.#pendingChanges += 1;
    const figures = figuresOfCounterDeltas(deltas);
    if (!hasFigures(figures)) return;
    const hour = hourStartOf(at).getTime();
    const inHour = this.#figures.get(hour) ?? {};
    addFigures(inHour, figures);
    this.#figures.set(hour, inHour);
  }

  /**
   * The queue's status as of now, for the check before a send: answered by the write of the
   * pending counters (and the measured rate) when they are due, else by a strongly consistent read
   * of the status alone. The tenant's figures go out too when they are due. undefined: no queue.
   */
  async statusBeforeSend(): Promise<QueueStatus | undefined> {
    if (this.#countersDue()) return (await this.#flush(false))?.status;
    const [status] = await Promise.all([
      this.#deps.store.getQueueStatus(this.#queue.id),
      this.#writeFigures(false),
    ]);
    return status;
  }

  /**
   * Drops the counter changes not written (the tenant's figures stay): the run lost its lease, so
   * another run may have recounted the queue with these changes in, and the run that starts next
   * recounts anyway (the queue is still `running`). Writing them now could count them twice.
   */
  forgetCounters(): void {
    this.#pending = {};
    this.#pendingChanges = 0;
  }

  /** Writes the pending counters, if there are any, and every pending figure (a way out of the run). */
  async flushIfAny(): Promise<void> {
    if (Object.keys(this.#pending).length > 0) await this.#flush(true);
    else await this.#writeFigures(true);
  }

  #countersDue(): boolean {
    if (this.#pendingChanges === 0) return false;
    return (
      this.#pendingChanges >= COUNTERS_FLUSH_EVERY_SENDS ||
      this.#deps.clock.now().getTime() - this.#countersWrittenAt >= COUNTERS_FLUSH_INTERVAL_MS
    );
  }

  async #flush(allFigures: boolean): Promise<BillingQueue | undefined> {
    const deltas = this.#pending;
    this.#pending = {};
    this.#pendingChanges = 0;
    this.#countersWrittenAt = this.#deps.clock.now().getTime();
    const { id: queueId, tenantId } = this.#queue;
    const [updated] = await Promise.all([
      this.#deps.store.updateQueueProgress(queueId, deltas, { currentRate: this.#currentRate() }),
      this.#writeFigures(allFigures),
    ]);
    if (updated) this.#deps.metrics.sendRate({ tenantId, queueId, perMinute: updated.currentRate });
    return updated;
  }

  /**
   * One write per hour bucket, when `all` is asked, the interval has passed or an hour has ended.
   * The figures leave the buffer before the writes: a write that fails is not tried again, so an
   * event is never counted twice (a failed write's events go uncounted).
   */
  async #writeFigures(all: boolean): Promise<void> {
    if (this.#figures.size === 0) return;
    const now = this.#deps.clock.now();
    const currentHour = hourStartOf(now).getTime();
    const due =
      all ||
      now.getTime() - this.#figuresWrittenAt >= FIGURES_FLUSH_INTERVAL_MS ||
      [...this.#figures.keys()].some((hour) => hour < currentHour);
    if (!due) return;
    const byHour = [...this.#figures];
    this.#figures = new Map();
    this.#figuresWrittenAt = now.getTime();
    await Promise.all(
      byHour.map(([hour, figures]) =>
        countTenantFigures(this.#deps, this.#queue.tenantId, new Date(hour), figures),
      ),
    );
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
  const { byStatus, deferred } = summary ?? (await deps.store.summarizeContacts(queue.id));
  const n = (status: keyof typeof byStatus) => byStatus[status] ?? 0;
  const exact: CounterDeltas = {
    // A contact whose message failed after the send counts as failed only, as its receipt moved it
    // (apply-receipt.ts receiptDeltas): sent and failed never count one contact twice.
    contactsSent: n('sent') + n('delivered') + n('read'),
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
