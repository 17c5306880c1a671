import type { BillingQueue } from '../domain/types.ts';
import type { BillingEventInput, BillingEvents } from '../ports/billing-events.ts';
import type {
  CallbackStore,
  CampaignStore,
  CancelledOnItsOwn,
  FailedContact,
  SentContact,
} from '../ports/store.ts';
import { callbackEventId } from './billing-events.ts';

export interface MissedEventsDeps {
  store: Pick<CampaignStore, 'getCampaign'> &
    Pick<CallbackStore, 'getCallbackEvent' | 'listCallbackEventIds'>;
  events: BillingEvents;
}

/** Up to this many candidates are looked up one by one; more read the ids of the queue's events. */
const LOOKUPS_BEFORE_LISTING = 3;

/**
 * Emits the events a crash lost. Each candidate was due right after a change the store kept (a send
 * recorded, a queue completed): a process that died between that write and its `emit` never
 * announced it, and nothing else would. Only events the campaign asked for and the store does not
 * have are emitted, of those that occurred since `keptSince` (the tenant's retention ago); the look
 * comes first because emitting a stored event again, though harmless (it is stored and posted once),
 * costs a publish and two failed conditional writes. Returns how many were emitted.
 */
export const emitMissedEvents = async (
  deps: MissedEventsDeps,
  queue: Pick<BillingQueue, 'id' | 'tenantId' | 'externalId'>,
  candidates: readonly BillingEventInput[],
  keptSince: string,
): Promise<number> => {
  // An event of before `keptSince` would have expired (retention): its absence says nothing, and
  // emitting it again would post an old event anew.
  const recent = candidates.filter((c) => c.occurredAt >= keptSince);
  if (recent.length === 0) return 0;
  const campaign = await deps.store.getCampaign(queue.tenantId, queue.externalId);
  if (!campaign?.callbackUrl) return 0;
  const wanted = recent.filter((c) => campaign.callbackEvents.includes(c.name));
  if (wanted.length === 0) return 0;
  const stored = await storedEventIds(deps, queue.id, wanted);
  let emitted = 0;
  for (const input of wanted) {
    if (stored.has(callbackEventId(queue.id, input.contactPosition, input.name))) continue;
    await deps.events.emit(input);
    emitted += 1;
  }
  return emitted;
};

/**
 * The ids of the queue's stored events among (or beyond) `wanted`'s. The listing is eventually
 * consistent: an event stored a moment ago may be missed, and is then emitted again, which stores
 * and posts nothing twice.
 */
const storedEventIds = async (
  deps: MissedEventsDeps,
  queueId: string,
  wanted: readonly BillingEventInput[],
): Promise<Set<string>> => {
  if (wanted.length > LOOKUPS_BEFORE_LISTING) return new Set(await deps.store.listCallbackEventIds(queueId));
  const ids = new Set<string>();
  for (const input of wanted) {
    const id = callbackEventId(queueId, input.contactPosition, input.name);
    if (await deps.store.getCallbackEvent(queueId, id)) ids.add(id);
  }
  return ids;
};

/** The `sent` event of a contact the gateway took, as the pump emits it after recording the send. */
export const sentEventOf = (queueId: string, contact: SentContact): BillingEventInput => ({
  name: 'sent',
  queueId,
  contactPosition: contact.position,
  occurredAt: contact.sentAt,
  providerMessageId: contact.providerMessageId,
  error: null,
});

/** The `failed` or `unknown` event of a contact an attempt ended so, as the pump emits it after recording it. */
export const failedEventOf = (queueId: string, contact: FailedContact): BillingEventInput => ({
  name: contact.status,
  queueId,
  contactPosition: contact.position,
  occurredAt: contact.failedAt,
  providerMessageId: null,
  error: { code: contact.code, message: contact.error ?? '' },
});

/** The `cancelled` event of a contact a payment or an erasure cancelled, as that request emits it after its writes. */
export const cancelledEventOf = (queueId: string, contact: CancelledOnItsOwn): BillingEventInput => ({
  name: 'cancelled',
  queueId,
  contactPosition: contact.position,
  occurredAt: contact.cancelledAt,
  cancelReason: contact.reason,
});
