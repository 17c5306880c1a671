import { type OptOutsCheckedAgainst, optOutRecheck, stampIsStale } from '../domain/opt-out-recheck.ts';
import type { BillingContact, BillingQueue } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { FeedbackStore, SendingStore } from '../ports/store.ts';
import { optedOutAmong } from './opt-outs.ts';

/** Contacts fetched per listing. */
const PREFETCH = 50;

/**
 * The pump's way through a queue's sendable contacts: a prefetched page in position order, from
 * the top again once the end is reached (for retries that came due), and which of the page's
 * phones opted out after the batch was accepted (a SAIR reply, the API, an erasure's digest).
 *
 * Opt-outs: a contact is checked against a reading of the tenant's opt-out stamp at most
 * `OPT_OUT_FRESH_MS` old (one small strongly consistent GetItem). The page's phones are looked up
 * (a BatchGetItem) once per page, and again only when the stamp moved or the erasure salt changed
 * since; a tenant that never had an opt-out costs no lookup. The stamp is read before the lookup
 * and moves after an opt-out's item is written, so no opt-out the reading counts is missed.
 */
export class SendableContacts {
  readonly #deps: { store: SendingStore & FeedbackStore; clock: Clock };
  readonly #queue: Pick<BillingQueue, 'id' | 'tenantId'>;
  /** The tenant's erasure salt as the run knows it now (the run re-reads its tenant as it goes). */
  readonly #erasureSalt: () => string | undefined;
  #page: BillingContact[] = [];
  #afterPosition: number | undefined;
  /** The page's phones that opted out, as of `#lastLookup`. */
  #optedOut = new Set<string>();
  /** When the stamp was last read for this page (ms, read before the request); undefined: never. */
  #stampReadAt: number | undefined;
  /** What the page's phones were last looked up against; undefined: not yet for this page. */
  #lastLookup: OptOutsCheckedAgainst | undefined;

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
      // A new page: its phones are looked up once, after a fresh reading of the stamp.
      this.#stampReadAt = undefined;
      this.#lastLookup = undefined;
      this.#optedOut = new Set();
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
   * Whether `contact`'s phone opted out: never send to it. Answered for the whole page at once
   * (`contact` and the contacts after it), from a stamp reading at most `OPT_OUT_FRESH_MS` old.
   */
  async isOptedOut(contact: BillingContact): Promise<boolean> {
    const { store, clock } = this.#deps;
    const startedAt = clock.now().getTime();
    if (stampIsStale(this.#stampReadAt, startedAt)) {
      const tenantId = this.#queue.tenantId;
      const current = { stamp: await store.optOutStamp(tenantId), salt: this.#erasureSalt() };
      const decision = optOutRecheck(current, this.#lastLookup);
      if (decision === 'look_up') {
        const phones = [contact.phone, ...this.#page.map((c) => c.phone)];
        this.#optedOut = await optedOutAmong(store, tenantId, current.salt, phones);
      }
      if (decision === 'none') this.#optedOut = new Set();
      // Only once the answer is in (a failed lookup is asked again), and as of the time before
      // the stamp's read: whatever that reading counts was stored by then at the latest.
      this.#lastLookup = current;
      this.#stampReadAt = startedAt;
    }
    return this.#optedOut.has(contact.phone);
  }

  #list(now: Date, afterPosition: number | undefined): Promise<BillingContact[]> {
    return this.#deps.store.listSendableContacts(this.#queue.id, now.toISOString(), PREFETCH, afterPosition);
  }
}
