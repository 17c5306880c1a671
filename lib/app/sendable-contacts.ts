import {
  type OptOutsCheckedAgainst,
  optOutRecheck,
  phonesToLookUp,
  stampIsStale,
} from '../domain/opt-out-recheck.ts';
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
 * `OPT_OUT_FRESH_MS` old (one small strongly consistent GetItem). A phone is looked up (a
 * BatchGetItem, with the next few phones of the page) once, and again only after the stamp moved or
 * the erasure salt changed; a tenant that never had an opt-out costs no lookup. The stamp is read
 * before the lookups and moves after an opt-out's item is written, so no opt-out the reading
 * counts is missed: an opt-out stored more than `OPT_OUT_FRESH_MS` before a check is always seen.
 */
export class SendableContacts {
  readonly #deps: { store: SendingStore & FeedbackStore; clock: Clock };
  readonly #queue: Pick<BillingQueue, 'id' | 'tenantId'>;
  /** The tenant's erasure salt as the run knows it now (the run re-reads its tenant as it goes). */
  readonly #erasureSalt: () => string | undefined;
  #page: BillingContact[] = [];
  #afterPosition: number | undefined;
  /** When the stamp was last read (ms, taken before the request); undefined: never. */
  #stampReadAt: number | undefined;
  /** What `#asked` and `#optedOut` hold against; undefined: nothing yet. */
  #heldAgainst: OptOutsCheckedAgainst | undefined;
  /** Phones looked up under `#heldAgainst`. */
  #asked = new Set<string>();
  /** Those of them that opted out. */
  #optedOut = new Set<string>();

  /**
   * `startAfter`: the position the previous run of the queue stopped after (a clean handover,
   * WorkItem.handover): the listing resumes there instead of reading the sent contacts again.
   */
  constructor(
    deps: { store: SendingStore & FeedbackStore; clock: Clock },
    queue: Pick<BillingQueue, 'id' | 'tenantId'>,
    erasureSalt: () => string | undefined = () => undefined,
    startAfter?: number,
  ) {
    this.#deps = deps;
    this.#queue = queue;
    this.#erasureSalt = erasureSalt;
    this.#afterPosition = startAfter;
  }

  /** The position of the last contact taken (where a next run may resume); undefined: none yet. */
  get lastPosition(): number | undefined {
    return this.#afterPosition;
  }

  /**
   * The next contact to send as of `now`, or undefined when none is sendable now. At the end of the
   * batch it answers undefined once and starts from the top at the next call: the caller reads the
   * whole queue then anyway (`finishOrWait`), and only needs the top again for retries that came
   * due or contacts a listing missed, which that read tells it.
   */
  async next(now: Date): Promise<BillingContact | undefined> {
    if (this.#page.length === 0) {
      const fromTop = this.#afterPosition === undefined;
      this.#page = await this.#list(now, this.#afterPosition);
      if (this.#page.length === 0 && !fromTop) {
        this.#afterPosition = undefined;
        return undefined;
      }
    }
    const next = this.#page.shift();
    if (next) this.#afterPosition = next.position;
    return next;
  }

  /**
   * Whether `contact`'s phone opted out: never send to it. Answered from a stamp reading at most
   * `OPT_OUT_FRESH_MS` old, and a lookup made after that reading (with the next phones of the page).
   */
  async isOptedOut(contact: BillingContact): Promise<boolean> {
    const { store, clock } = this.#deps;
    const tenantId = this.#queue.tenantId;
    const startedAt = clock.now().getTime();
    if (stampIsStale(this.#stampReadAt, startedAt)) {
      const current = { stamp: await store.optOutStamp(tenantId), salt: this.#erasureSalt() };
      if (optOutRecheck(current, this.#heldAgainst) !== 'keep') {
        this.#asked = new Set();
        this.#optedOut = new Set();
      }
      this.#heldAgainst = current;
      // As of the time before the read: whatever it counts was stored by then at the latest.
      this.#stampReadAt = startedAt;
    }
    const against = this.#heldAgainst;
    if (!against || against.stamp === 0) return false;
    const phones = phonesToLookUp(
      contact.phone,
      this.#page.map((c) => c.phone),
      this.#asked,
    );
    if (phones.length > 0) {
      // Marked asked only once answered: a failed lookup is asked again.
      const found = await optedOutAmong(store, tenantId, against.salt, phones);
      for (const phone of phones) this.#asked.add(phone);
      for (const phone of found) this.#optedOut.add(phone);
    }
    return this.#optedOut.has(contact.phone);
  }

  #list(now: Date, afterPosition: number | undefined): Promise<BillingContact[]> {
    return this.#deps.store.listSendableContacts(this.#queue.id, now.toISOString(), PREFETCH, afterPosition);
  }
}
