import type { ContactDelivery } from '../../domain/delivery-stall.ts';
import type { ContactStatus, TemplateType } from '../../domain/types.ts';

/** Stalled deliveries: sent messages with no acknowledgement (docs/data-model.md, Delivery watch). */
export interface DeliveryWatchStore {
  /**
   * Makes sure the queue has a delivery watch: creates it due at `watch.checkAt`, or keeps an existing
   * one's due time; either way stamps `token`, so a sweeper that read an older token does not remove
   * it. Returns the watch as stored now.
   */
  armDeliveryWatch(
    watch: Omit<DeliveryWatch, 'fromPosition' | 'token'>,
    token: string,
  ): Promise<DeliveryWatch>;
  /** Watches due by `now`, earliest first (candidates from the due index: read each before deciding). */
  listDueDeliveryWatches(now: string, limit: number): Promise<DeliveryWatch[]>;
  /** A queue's delivery watch (consistent read). */
  getDeliveryWatch(queueId: string): Promise<DeliveryWatch | undefined>;
  /** Moves a watch to its next check and the position that check starts from; false when it is gone. */
  rescheduleDeliveryWatch(queueId: string, checkAt: string, fromPosition: number): Promise<boolean>;
  /** Removes the watch if its token is still `token` (no send armed it since); false otherwise. */
  removeDeliveryWatch(queueId: string, token: string): Promise<boolean>;
  /** What a delivery check needs of the queue's contacts from `fromPosition` on, in batch order (consistent). */
  listContactDeliveries(queueId: string, fromPosition: number): Promise<ContactDelivery[]>;
  /**
   * Sets `stalledAt` on a contact still `sent`, sent at or before `sentBefore`, with no SERVER_ACK and
   * not stalled yet (one conditional write, so it counts once); false when any of that is not so.
   */
  markContactStalled(queueId: string, position: number, at: string, sentBefore: string): Promise<boolean>;
  /**
   * Records WhatsApp's SERVER_ACK (`serverAckAt`, first one kept) on a contact still `sent`, without
   * moving its status; `wasStalled` when that ended a stall. Not recorded: the status that refused it.
   */
  recordServerAck(
    queueId: string,
    position: number,
    at: string,
  ): Promise<
    { recorded: true; wasStalled: boolean } | { recorded: false; current: ContactStatus | undefined }
  >;
}

/**
 * A queue whose sent messages the sweeper checks for acknowledgements. Armed by sends, checked when
 * due, removed once nothing sent awaits an acknowledgement (the next send arms it again).
 */
export interface DeliveryWatch {
  queueId: string;
  tenantId: string;
  templateType: TemplateType;
  /** When the next check is due. */
  checkAt: string;
  /** Contacts before this position are settled for good; the next check starts here. */
  fromPosition: number;
  /** Changes on every arm: a remove conditional on it never drops a watch a send relies on. */
  token: string;
}
