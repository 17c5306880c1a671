import { figuresOfCounterDeltas } from '../domain/activity-figures.ts';
import type { WhatsAppInstance } from '../domain/tenant-types.ts';
import type {
  CallbackEvent,
  ContactStatus,
  EventContact,
  QueueCounter,
  ReceiptStatus,
} from '../domain/types.ts';
import type { GatewayReceipt } from '../ports/gateway-events.ts';
import { allOf } from './bounded.ts';
import {
  type ApplyGatewayEventsDeps,
  applied,
  clip,
  type IngestOutcome,
  ignored,
  isBillingMessage,
  metricEvent,
  retryLater,
} from './gateway-event-intake.ts';
import { flagReceiptRecount } from './receipt-recount.ts';
import { countTenantFigures } from './tenant-figures.ts';

/**
 * A receipt for a message id we have not recorded may be ours still in flight (the gateway can post
 * before our send call returns): asked to be retried for this long after the event, then dropped.
 */
const UNKNOWN_MESSAGE_GRACE_MS = 2 * 60_000;

/**
 * The queue counter changes of a receipt that moved a contact from `previous`: a contact counts in
 * `contactsDelivered` once it first reaches delivered OR read (a read arriving first counts both, the
 * late delivery then counts nothing, as the conditional write refuses it); a failure after the send
 * moves the contact from where it was counted (sent, or unknown: a send whose record a crash or a
 * lost claim cut off, and whose message went out all the same) to failed; a delivery or a read of an
 * unknown one counts it sent.
 */
export const receiptDeltas = (
  previous: ContactStatus,
  receipt: ReceiptStatus,
  wasStalled = false,
): Partial<Record<QueueCounter, number>> => {
  // A stalled contact that a late receipt moves on is stalled no more.
  const unstalled = wasStalled ? { contactsStalled: -1 } : {};
  if (receipt === 'failed')
    return {
      ...(previous === 'unknown' ? { contactsUnknown: -1 } : { contactsSent: -1 }),
      contactsFailed: 1,
      ...unstalled,
    };
  const wasDelivered = previous === 'delivered' || previous === 'read';
  return {
    // An unknown send that a receipt shows arrived is a send after all.
    ...(previous === 'unknown' ? { contactsUnknown: -1, contactsSent: 1 } : {}),
    ...(wasDelivered ? {} : { contactsDelivered: 1 }),
    ...(receipt === 'read' && previous !== 'read' ? { contactsRead: 1 } : {}),
    ...unstalled,
  };
};

/**
 * Callback events a receipt stands for (a read implies the delivery, and a delivery or read of an
 * `unknown` contact its send); emitting them again is a no-op. A read applied to a contact that was
 * `delivered` leaves `delivered` out: that receipt emitted it, and re-storing it would cost a failed
 * conditional write for nothing. `previous` undefined (a duplicate receipt, which fills a gap a crash
 * left) emits the receipt's own and the delivery a read implies; a `sent` a crash lost there is the
 * queue's completion's to catch up (lib/app/missed-events.ts).
 */
const receiptEvents = (receipt: ReceiptStatus, previous?: ContactStatus): CallbackEvent[] => {
  if (receipt === 'failed') return ['failed'];
  const ownAndImplied: CallbackEvent[] =
    receipt === 'delivered' ? ['delivered'] : previous === 'delivered' ? ['read'] : ['delivered', 'read'];
  return previous === 'unknown' ? ['sent', ...ownAndImplied] : ownAndImplied;
};

/** Whether a contact already in `current` reflects the receipt (a duplicate or a late, older receipt). */
const reflects = (current: ContactStatus, receipt: ReceiptStatus): boolean =>
  receipt === 'failed'
    ? current === 'failed'
    : current === 'read' || (current === 'delivered' && receipt === 'delivered');

export const applyReceipt = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  receipt: GatewayReceipt,
): Promise<IngestOutcome> => {
  const { messageId, status, at } = receipt;
  const message = await deps.store.getMessage(instance.tenantId, instance.id, messageId);
  if (!message) {
    // Maybe ours and not recorded yet; an id typed on the phone itself stops being retried soon.
    return deps.clock.now().getTime() - at.getTime() < UNKNOWN_MESSAGE_GRACE_MS
      ? retryLater('message not recorded yet')
      : ignored('unknown_message', `no message ${clip(messageId)} of ours`);
  }
  if (!isBillingMessage(message, instance.tenantId))
    return ignored('unknown_message', `message ${clip(messageId)} is not a billing message`);
  const queueId = message.queueId as string;
  const position = message.contactPosition as number;
  if (status === 'server_ack') return applyServerAck(deps, instance.tenantId, queueId, position, at);

  // The message's id and time: an unknown contact a receipt moves on has none of its own.
  const write = await deps.store.applyReceipt(queueId, position, status, at.toISOString(), receipt.error, {
    providerMessageId: messageId,
    sentAt: message.at,
  });
  if (!write.applied) {
    if (write.current === 'sending') return retryLater('contact not marked sent yet');
    if (!write.current) return ignored('unknown_message', `no contact for message ${clip(messageId)}`);
    if (!reflects(write.current, status)) return ignored('stale_receipt', `contact is ${write.current}`);
    // A duplicate: the ERP's events are idempotent, so repeating them only fills a gap a crash left.
    // It may also be the gateway's retry of a receipt whose counters write was lost after its
    // contact's: its queue's receipt counters get recounted (receipt-recount.ts).
    await allOf([
      emitReceipt(deps, queueId, position, { status, messageId, at, sentAt: message.at }),
      flagReceiptRecount(deps, queueId, instance.tenantId),
    ]);
    return ignored('duplicate', `duplicate ${status}`);
  }
  const deltas = receiptDeltas(write.previous, status, write.wasStalled === true);
  // The contact's write decided: the queue's counters, the tenant's figures (one write per receipt:
  // receipts come one per webhook) and the ERP's events follow from it, independently, at once (a
  // failure is retried by the gateway, whose retry finds the contact moved and repeats only the events).
  await allOf([
    deps.store.addToQueueCounters(queueId, deltas),
    countTenantFigures(deps, instance.tenantId, at, figuresOfCounterDeltas(deltas)),
    emitReceipt(
      deps,
      queueId,
      position,
      { status, messageId, at, sentAt: message.at },
      write.previous,
      write.contact,
    ),
  ]);
  // The metrics follow the counters, so a read arriving first counts a delivery too.
  const about = metricEvent(message);
  if (about && deltas.contactsDelivered) deps.metrics.messageDelivered(about);
  if (about && deltas.contactsRead) deps.metrics.messageRead(about);
  return applied(`${write.previous} -> ${status}`);
};

/**
 * WhatsApp's server took the message. Not a delivery (the status stays `sent`), but proof it is not
 * stalled: recorded once as `serverAckAt`; one that ends a stall takes the contact out of
 * `contacts_stalled`. Like receipts, one for a contact still `sending` is retried later.
 */
const applyServerAck = async (
  deps: ApplyGatewayEventsDeps,
  tenantId: string,
  queueId: string,
  position: number,
  at: Date,
): Promise<IngestOutcome> => {
  const write = await deps.store.recordServerAck(queueId, position, at.toISOString());
  if (!write.recorded) {
    if (write.current === 'sending') return retryLater('contact not marked sent yet');
    // Maybe the gateway's retry of an ack that ended a stall and lost its counters write: recounted.
    if (write.current) await flagReceiptRecount(deps, queueId, tenantId);
    return ignored('duplicate', `server ack: contact is ${write.current ?? 'unknown'}`);
  }
  if (write.wasStalled) await deps.store.addToQueueCounters(queueId, { contactsStalled: -1 });
  return applied(write.wasStalled ? 'server ack (ends a stall)' : 'server ack');
};

const emitReceipt = async (
  deps: ApplyGatewayEventsDeps,
  queueId: string,
  position: number,
  receipt: { status: ReceiptStatus; messageId: string; at: Date; sentAt: string },
  previous?: ContactStatus,
  contact?: EventContact,
): Promise<void> => {
  for (const name of receiptEvents(receipt.status, previous)) {
    await deps.events.emit({
      name,
      queueId,
      contactPosition: position,
      // A send the receipt proves happened when the gateway took it, as the pump would have said.
      occurredAt: name === 'sent' ? receipt.sentAt : receipt.at.toISOString(),
      providerMessageId: receipt.messageId,
      error:
        name === 'failed' ? { code: 'DELIVERY_FAILED', message: 'WhatsApp informou falha na entrega' } : null,
      // As the receipt's write found it (a duplicate's, undefined: read).
      contact,
    });
  }
};
