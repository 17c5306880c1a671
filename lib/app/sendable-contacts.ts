import type { BillingContact, BillingQueue } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { FeedbackStore, SendingStore } from '../ports/store.ts';
import { optedOutAmong } from './opt-outs.ts';

/** Contacts fetched per listing. */
const PREFETCH = 50;
/** How old the opt-out answer for the prefetched contacts may be before it is asked again. */
const OPT_OUT_FRESH_MS = 10_000;

/**
 * The pump's way through a queue's sendable contacts: a prefetched page in position order, from
 * the top again once the end is reached (for retries that came due), and which of the page's
 * phones opted out after the batch was accepted (a SAIR reply, the API).
 */
export class SendableContacts {
  readonly #deps: { store: SendingStore & FeedbackStore; clock: Clock };
  readonly #queue: Pick<BillingQueue, 'id' | 'tenantId'>;
  /** The tenant's erasure salt as the run knows it now (the run re-reads its tenant as it goes). */
  readonly #erasureSalt: () => string | undefined;
  #page: BillingContact[] = [];
  #afterPosition: number | undefined;
  #optedOut = new Set<string>();
  #optOutsCheckedAt = Number.NEGATIVE_INFINITY;

  constructor(
    deps: { store: SendingStore & FeedbackStore; clock: Clock },
    queue: Pick<BillingQueue, 'id' | 'tenantId'>,
    erasureSalt: () => string | undefined = () => undefined,
  ) {
    this.#deps = deps;
    this.#queue = queue;
    this.#erasureSalt = erasureSalt;
  }

  /** The next contact to send as of `now`, or undefined when none is sendable now. */
  async next(now: Date): Promise<BillingContact | undefined> {
    if (this.#page.length === 0) {
      this.#optOutsCheckedAt = Number.NEGATIVE_INFINITY;
      this.#page = await this.#list(now, this.#afterPosition);
      if (this.#page.length === 0 && this.#afterPosition !== undefined) {
        // Reached the end of the batch: start again from the top for retries that came due.
        this.#afterPosition = undefined;
        this.#page = await this.#list(now, undefined);
      }
    }
    const next = this.#page.shift();
    if (next) this.#afterPosition = next.position;
    return next;
  }

  /**
   * Whether `contact`'s phone opted out: never send to it. Asked for the whole page at once
   * (`contact` and the contacts after it), and again once the answer is a few seconds old.
   */
  async isOptedOut(contact: BillingContact): Promise<boolean> {
    const { store, clock } = this.#deps;
    if (clock.now().getTime() - this.#optOutsCheckedAt > OPT_OUT_FRESH_MS) {
      const phones = [contact.phone, ...this.#page.map((c) => c.phone)];
      this.#optedOut = await optedOutAmong(store, this.#queue.tenantId, this.#erasureSalt(), phones);
      this.#optOutsCheckedAt = clock.now().getTime();
    }
    return this.#optedOut.has(contact.phone);
  }

  #list(now: Date, afterPosition: number | undefined): Promise<BillingContact[]> {
    return this.#deps.store.listSendableContacts(this.#queue.id, now.toISOString(), PREFETCH, afterPosition);
  }
}
