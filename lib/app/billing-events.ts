import { retentionEnd } from '../domain/retention.ts';
import type { CallbackEvent, Campaign, EventContact } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { BillingEventInput, BillingEvents } from '../ports/billing-events.ts';
import type { CallbackQueue } from '../ports/callback-queue.ts';
import type { Clock } from '../ports/clock.ts';
import type { CallbackPayload, Store, StoredCallbackEvent } from '../ports/store.ts';
import { tenantRetentionDays } from './tenant-retention.ts';

export interface BillingEventsDeps {
  store: Pick<
    Store,
    'getQueue' | 'getCampaign' | 'getContact' | 'putCallbackEvent' | 'makeCallbackDue' | 'getTenant'
  >;
  clock: Clock;
  logger?: Pick<Logger, 'warn'>;
  /** Where a new pending event is announced for delivery now; without it the due-index poller delivers. */
  callbackQueue?: Pick<CallbackQueue, 'publish'>;
  /**
   * For a callbacks queue that may lose its messages (the embedded SQS emulator, in memory): an
   * announced event is also due this long after it is stored, so the poller posts it if its
   * announcement is lost (config CALLBACK_SAFETY_NET_SECONDS). Unset: announced events are in no
   * due index (a durable queue brings them back).
   */
  announcementSafetyNetMs?: number;
}

/** What an event needs from its queue and campaign; none of it changes after accept. */
interface QueueContext {
  tenantId: string;
  externalId: string;
  campaignId: string;
  callbackUrl: string | null;
  callbackEvents: readonly CallbackEvent[];
  apiKeyId: string;
  /** The tenant's retention as it was when the context was read: an event expires that long after it is stored. */
  retentionDays: number;
}

/** Queue contexts remembered per process (a pump emits one event per contact of the same queue). */
const CONTEXT_CACHE_LIMIT = 1_000;

/** The deterministic id of an event: the same event emitted twice has the same id (the dedup key). */
export const callbackEventId = (queueId: string, position: number | null, name: CallbackEvent): string =>
  position === null ? `${queueId}:${name}` : `${queueId}:${position}:${name}`;

/**
 * The stored item of an event the campaign asked for, `pending`, first attempt at `firstAttemptAt`:
 * null when it is announced on the callbacks queue (whose consumer makes the first attempt), else
 * when the poller may make it.
 */
const storedEventOf = (
  input: BillingEventInput,
  context: QueueContext,
  contact: EventContact | undefined,
  now: string,
  firstAttemptAt: string | null,
): StoredCallbackEvent => {
  const eventId = callbackEventId(input.queueId, input.contactPosition, input.name);
  const payload: CallbackPayload = {
    event_id: eventId,
    event: input.name,
    occurred_at: input.occurredAt,
    external_id: context.externalId,
    billing_campaign_id: context.campaignId,
    queue_id: input.queueId,
    contact: contact
      ? {
          telefone: contact.phone,
          nome_cliente: contact.name,
          numero_fatura: contact.invoiceNumber ?? null,
        }
      : null,
    message_id: input.providerMessageId ?? contact?.providerMessageId ?? null,
    error: input.error ?? null,
    reply: input.reply ?? null,
    ...(input.cancelReason ? { cancel_reason: input.cancelReason } : {}),
  };
  return {
    eventId,
    tenantId: context.tenantId,
    queueId: input.queueId,
    event: input.name,
    occurredAt: input.occurredAt,
    callbackUrl: context.callbackUrl,
    apiKeyId: context.apiKeyId,
    payload,
    delivery: {
      status: 'pending',
      attempts: 0,
      nextAttemptAt: firstAttemptAt,
      lastAttemptAt: null,
      lastError: null,
      deliveredAt: null,
    },
    createdAt: now,
  };
};

/**
 * The real `BillingEvents`: each event the campaign asked for (with a `callback_url`) becomes one
 * stored event (conditional put on its deterministic id, so redelivered work items and duplicated
 * webhooks record it once), `pending`. With a callbacks queue it is announced there (its consumer
 * posts it at once, and brings the attempt back if it dies) and kept out of the due index; only
 * when the announcement fails is it made due, for `deliverDueCallbacks`, which also makes every
 * retry. Without a callbacks queue it is due at once. Events the campaign did not ask for are not
 * stored. Emission stays cheap for the sender: reads of queue and campaign are cached, the post
 * happens elsewhere.
 */
export const createBillingEvents = (deps: BillingEventsDeps): BillingEvents => {
  const contexts = new Map<string, QueueContext>();

  const contextOf = async (queueId: string): Promise<QueueContext | undefined> => {
    const cached = contexts.get(queueId);
    if (cached) return cached;
    const queue = await deps.store.getQueue(queueId);
    if (!queue) return undefined;
    // Both follow from the queue alone: one round trip, not two, for a context not remembered yet.
    const [campaign, retentionDays]: [Campaign | undefined, number] = await Promise.all([
      deps.store.getCampaign(queue.tenantId, queue.externalId),
      tenantRetentionDays(deps.store, queue.tenantId),
    ]);
    if (!campaign) return undefined;
    const context: QueueContext = {
      tenantId: queue.tenantId,
      externalId: queue.externalId,
      campaignId: campaign.id,
      callbackUrl: campaign.callbackUrl || null,
      callbackEvents: campaign.callbackEvents,
      apiKeyId: campaign.apiKeyId,
      retentionDays,
    };
    if (contexts.size >= CONTEXT_CACHE_LIMIT) contexts.clear();
    contexts.set(queueId, context);
    return context;
  };

  return {
    /**
     * 1. the queue's context (tenant, campaign, callback settings): an event the campaign did not
     * ask for stops here; 2. the contact, for contact events (read unless the emitter holds it);
     * 3. the event is published to the callbacks queue, carrying itself, and its consumer stores
     * it (the put that claims its first attempt). 4. Only when the publish failed, or with a safety
     * net (a callbacks queue that may lose its messages), one conditional put here, `pending`: a
     * failed publish makes the stored event due now, for the poller, and so does storing an event
     * seen before (a re-emission); with the safety net the stored event is also due that long after:
     * the consumer's claim takes it first as ever, and the poller takes it if the announcement was
     * lost. Announced first, so a process that dies between the two leaves an announcement whose
     * consumer stores the event, never a stored event nobody announced. Without a callbacks queue,
     * the put alone, due now.
     */
    async emit(input: BillingEventInput) {
      const context = await contextOf(input.queueId);
      if (!context) {
        // A queue without its campaign is a broken invariant; losing the event beats failing a send.
        deps.logger?.warn('billing event for an unknown queue dropped', {
          queueId: input.queueId,
          event: input.name,
        });
        return;
      }
      // Only events the campaign asked for are recorded: the others would cost two store requests
      // per message for nobody (the events API lists what was, or will be, delivered).
      if (context.callbackUrl === null || !context.callbackEvents.includes(input.name)) return;
      const contact =
        input.contactPosition === null
          ? undefined
          : (input.contact ?? (await deps.store.getContact(input.queueId, input.contactPosition)));
      const clockNow = deps.clock.now();
      const now = clockNow.toISOString();
      const expiresAt = retentionEnd(now, context.retentionDays);
      if (!deps.callbackQueue) {
        await deps.store.putCallbackEvent(storedEventOf(input, context, contact, now, now), expiresAt);
        return;
      }
      const { announcementSafetyNetMs } = deps;
      const event = storedEventOf(
        input,
        context,
        contact,
        now,
        announcementSafetyNetMs === undefined
          ? null
          : new Date(clockNow.getTime() + announcementSafetyNetMs).toISOString(),
      );
      const { eventId } = event;
      let published = true;
      try {
        await deps.callbackQueue.publish({ queueId: input.queueId, eventId, stored: { event, expiresAt } });
      } catch (error) {
        published = false;
        deps.logger?.warn('callback event not published to the callbacks queue; the poller will deliver it', {
          eventId,
          error: error as Error,
        });
      }
      // Announced on a queue that keeps its messages (SQS on AWS, RabbitMQ): its consumer stores the
      // event, and that put is the claim of its first attempt (one write less than a put here and a
      // claim there).
      if (published && announcementSafetyNetMs === undefined) return;
      // Stored here too when the queue may lose the announcement (the safety net's due entry); a put
      // that fails after the publish is not lost either: the consumer stores the event. One not
      // announced is stored due now, for the poller (not at the safety net's later time).
      const stored = await deps.store.putCallbackEvent(
        published ? event : { ...event, delivery: { ...event.delivery, nextAttemptAt: now } },
        expiresAt,
      );
      // Not announced: nothing is lost, the event becomes due in the index and the poller posts it.
      // Seen before: an earlier emission announced it, unless an older emitter (put before publish)
      // died in between; made due too. Either is a no-op once a deliverer has claimed the event (the
      // claim created its delivery item), and the claim keeps a queued and a due delivery apart.
      if (!published || stored !== 'created')
        await deps.store.makeCallbackDue(input.queueId, eventId, now, expiresAt);
    },
  };
};
