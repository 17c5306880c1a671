import {
  addFigures,
  type Figures,
  figuresOfCounterDeltas,
  hasFigures,
  hourStartOf,
} from '../domain/activity-figures.ts';
import type { BillingQueue, QueueCounter } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { CampaignStore, ContactSummary, CounterStore, SendingStore } from '../ports/store.ts';
import { countTenantFigures } from './tenant-figures.ts';

type CounterDeltas = Partial<Record<QueueCounter, number>>;

/**
 * The tenant's figures (sends, failures) go out with a counter flush at most this often (and on every
 * way out of the run), so they cost one write per hour bucket per interval, not one per message.
 */
export const FIGURES_FLUSH_INTERVAL_MS = 30_000;

/**
 * The pump's counter changes not yet written. They go out in the one progress write made right
 * before the next claim, whose answer is also the freshest status: a pause or cancel that came
 * during the pacing wait wins before the next send, with no extra read. Whatever is left is
 * written on every way out (`flushIfAny`), and completion recounts from the contacts.
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
  }

  /** Counter changes of a contact write that succeeded at `at` (the events of the tenant's figures). */
  add(deltas: CounterDeltas, at: Date): void {
    for (const [name, value] of Object.entries(deltas) as Array<[QueueCounter, number]>) {
      this.#pending[name] = (this.#pending[name] ?? 0) + value;
    }
    const figures = figuresOfCounterDeltas(deltas);
    if (!hasFigures(figures)) return;
    const hour = hourStartOf(at).getTime();
    const inHour = this.#figures.get(hour) ?? {};
    addFigures(inHour, figures);
    this.#figures.set(hour, inHour);
  }

  /**
   * Writes the pending counters and the measured rate, and the tenant's figures when they are due;
   * returns the queue after the write.
   */
  flush(): Promise<BillingQueue | undefined> {
    return this.#flush(false);
  }

  /** Writes the pending counters, if there are any, and every pending figure (a way out of the run). */
  async flushIfAny(): Promise<void> {
    if (Object.keys(this.#pending).length > 0) await this.#flush(true);
    else await this.#writeFigures(true);
  }

  async #flush(allFigures: boolean): Promise<BillingQueue | undefined> {
    const deltas = this.#pending;
    this.#pending = {};
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
