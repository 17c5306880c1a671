import { figuresOfCounterDeltas } from '../domain/activity-figures.ts';
import { maskPhone } from '../domain/phone.ts';
import { queueStatusesThatCanMoveTo } from '../domain/queue-state.ts';
import { classifyReply } from '../domain/reply-intent.ts';
import { retentionEnd } from '../domain/retention.ts';
import type {
  BillingQueue,
  CallbackEvent,
  ContactStatus,
  ConversationMessage,
  QueueCounter,
  QueueStatus,
  ReceiptStatus,
  WhatsAppInstance,
} from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { BillingEvents } from '../ports/billing-events.ts';
import type { Clock } from '../ports/clock.ts';
import type {
  GatewayConnection,
  GatewayEvent,
  GatewayReceipt,
  GatewayReply,
  GatewayWebhook,
} from '../ports/gateway-events.ts';
import type { MessageEvent, Metrics, WebhookIgnoredReason } from '../ports/metrics.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import type {
  CampaignStore,
  ConversationStore,
  CounterStore,
  DeliveryWatchStore,
  FeedbackStore,
  SendingStore,
  TenantStore,
} from '../ports/store.ts';
import type { WorkQueue } from '../ports/work-queue.ts';
import { scheduleOrLeaveToSweeper } from './fallback-to-sweeper.ts';
import { MAX_OPT_OUT_REASON, phoneSpellings } from './opt-outs.ts';
import { publishContinuation, transitionWithMetrics, workItemOf } from './queue-work.ts';
import { countTenantFigures } from './tenant-figures.ts';
import { tenantRetentionDays } from './tenant-retention.ts';

/** The ports the webhook intake uses. */
export interface ApplyGatewayEventsDeps {
  /** Messages (conversations), receipts, replies and opt-outs (feedback), server acks (delivery
   *  watch), queue moves and counters (sending), queues of an instance (campaigns), its state (tenants),
   *  the tenant's figures (counters). */
  store: ConversationStore &
    FeedbackStore &
    DeliveryWatchStore &
    SendingStore &
    CampaignStore &
    TenantStore &
    CounterStore;
  events: BillingEvents;
  clock: Clock;
  workQueue: WorkQueue;
  scheduler: Scheduler;
  logger: Logger;
  metrics: Metrics;
}

/** What happened to one webhook: applied, ignored (not ours, echo, duplicate...), or to be retried by the gateway. */
export interface IngestOutcome {
  result: 'applied' | 'ignored' | 'retry_later';
  detail: string;
  /** Why it was ignored (the metric's dimension); only on `ignored`. */
  reason?: WebhookIgnoredReason;
}

/** Ignored webhooks the service could not use: logged at WARN (the rest are routine, logged at DEBUG). */
const UNUSABLE: ReadonlySet<WebhookIgnoredReason> = new Set<WebhookIgnoredReason>([
  'unreadable_body',
  'unknown_event',
  'missing_data',
  'unknown_status',
  'unknown_message',
  'unknown_connection_state',
]);

/**
 * A receipt for a message id we have not recorded may be ours still in flight (the gateway can post
 * before our send call returns): asked to be retried for this long after the event, then dropped.
 */
const UNKNOWN_MESSAGE_GRACE_MS = 2 * 60_000;
/** A reply without a quoted message matches the phone's latest billing message within this window. */
const REPLY_MATCH_WINDOW_MS = 7 * 86_400_000;
/** Messages read per phone spelling when matching a reply. */
const REPLY_MATCH_SCAN = 20;
const RECHECK_AFTER_CLOSE_MS = 60_000;
const LIST_PAGE = 100;

/**
 * The open queues a lost connection stops: every status that may become `instance_down`, but not
 * `instance_down` itself (a parked queue keeps its own re-check).
 */
const STOPPED_BY_CLOSE = queueStatusesThatCanMoveTo('instance_down').filter(
  (status) => status !== 'instance_down',
);

/**
 * The queue counter changes of a receipt that moved a contact from `previous`: a contact counts in
 * `contactsDelivered` once it first reaches delivered OR read (a read arriving first counts both, the
 * late delivery then counts nothing, as the conditional write refuses it); a failure after the send
 * moves the contact from sent to failed.
 */
export const receiptDeltas = (
  previous: ContactStatus,
  receipt: ReceiptStatus,
  wasStalled = false,
): Partial<Record<QueueCounter, number>> => {
  // A stalled contact that a late receipt moves on is stalled no more.
  const unstalled = wasStalled ? { contactsStalled: -1 } : {};
  if (receipt === 'failed') return { contactsSent: -1, contactsFailed: 1, ...unstalled };
  const wasDelivered = previous === 'delivered' || previous === 'read';
  return {
    ...(wasDelivered ? {} : { contactsDelivered: 1 }),
    ...(receipt === 'read' && previous !== 'read' ? { contactsRead: 1 } : {}),
    ...unstalled,
  };
};

/**
 * Callback events a receipt stands for (a read implies the delivery); emitting them again is a
 * no-op. A read applied to a contact that was `delivered` leaves `delivered` out: that receipt
 * emitted it, and re-storing it would cost a failed conditional write for nothing. `previous`
 * undefined (a duplicate receipt, which fills a gap a crash left) emits them all.
 */
const receiptEvents = (receipt: ReceiptStatus, previous?: ContactStatus): CallbackEvent[] =>
  receipt !== 'read' ? [receipt] : previous === 'delivered' ? ['read'] : ['delivered', 'read'];

/** Whether a contact already in `current` reflects the receipt (a duplicate or a late, older receipt). */
const reflects = (current: ContactStatus, receipt: ReceiptStatus): boolean =>
  receipt === 'failed'
    ? current === 'failed'
    : current === 'read' || (current === 'delivered' && receipt === 'delivered');

const isBillingMessage = (m: ConversationMessage | undefined, tenantId: string): m is ConversationMessage =>
  m !== undefined &&
  m.tenantId === tenantId &&
  m.direction === 'outbound' &&
  m.queueId !== null &&
  m.contactPosition !== null;

/** What a receipt or reply metric says about a billing message; none without a template type to label it. */
const metricEvent = (m: ConversationMessage): MessageEvent | undefined =>
  m.templateType
    ? { tenantId: m.tenantId, queueId: m.queueId ?? undefined, templateType: m.templateType }
    : undefined;

const ignored = (reason: WebhookIgnoredReason, detail: string): IngestOutcome => ({
  result: 'ignored',
  reason,
  detail,
});
/** At most this much of an id the gateway sent goes into an outcome's detail (and so a log line). */
const clip = (id: string): string => id.slice(0, 60);
const applied = (detail: string): IngestOutcome => ({ result: 'applied', detail });
const retryLater = (detail: string): IngestOutcome => ({ result: 'retry_later', detail });

/**
 * Applies what one webhook of an (already authenticated) instance reports, design section 5:
 * 1. receipts of our sends: the message item (tenant, instance, message id) names the contact; one
 *    forward-only conditional write on the contact, counters (the queue's, then the tenant's
 *    figures) from the status it replaced, events for the ERP; `server_ack` is recorded on the
 *    contact (not stalled; the status stays `sent`).
 *    A receipt that finds the contact still `sending` (the sender records the message before it
 *    marks the contact sent), or no message yet, asks the gateway to retry (`retry_later` -> 503);
 * 2. replies: matched to the billing message they quote, else to the phone's latest billing
 *    message within 7 days; stored as an inbound message (once per id), counted once per
 *    contact, classified, opt-out requests suppress the phone, `replied` for the ERP;
 * 3. connection changes: the state is remembered; `close` stops the instance's open queues
 *    (`instance_down`, re-checked by the pump in a minute), `open` resumes them at once;
 * 4. whatever is ignored is counted by reason and logged (WARN when the service could not use it).
 * Every step is idempotent, so the gateway's retries and duplicates change nothing twice. The
 * webhook's outcome: `retry_later` if any event asks for it (applying again is harmless), else
 * `applied` if any event was, else the first event's `ignored`.
 */
export const applyGatewayEvents = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  webhook: GatewayWebhook,
): Promise<IngestOutcome> => {
  const outcomes: IngestOutcome[] = [];
  for (const event of webhook.events) {
    const outcome = await applyEvent(deps, instance, event);
    if (outcome.result === 'ignored' && outcome.reason)
      noteIgnored(deps, instance, webhook, outcome.reason, outcome.detail);
    outcomes.push(outcome);
  }
  return (
    outcomes.find((o) => o.result === 'retry_later') ??
    outcomes.find((o) => o.result === 'applied') ??
    // A webhook has at least one event.
    (outcomes[0] as IngestOutcome)
  );
};

const applyEvent = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  event: GatewayEvent,
): Promise<IngestOutcome> => {
  switch (event.kind) {
    case 'receipt':
      return applyReceipt(deps, instance, event);
    case 'reply':
      return applyReply(deps, instance, event);
    case 'connection':
      return applyConnection(deps, instance, event);
    case 'ignored':
      return ignored(event.reason, event.detail);
  }
};

/** Counts an ignored event by reason, and logs it with what the gateway called the webhook. */
const noteIgnored = (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  webhook: GatewayWebhook,
  reason: WebhookIgnoredReason,
  detail: string,
): void => {
  deps.metrics.webhookIgnored({ tenantId: instance.tenantId, reason });
  const fields = {
    tenantId: instance.tenantId,
    instanceId: instance.id,
    event: webhook.label.event,
    // The gateway's own instance name, only to tell misrouted webhooks apart in the logs.
    envelopeInstance: webhook.label.instance,
    reason,
    detail,
  };
  if (UNUSABLE.has(reason)) deps.logger.warn('gateway webhook ignored', fields);
  else deps.logger.debug('gateway webhook ignored', fields);
};

const applyReceipt = async (
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
  if (status === 'server_ack') return applyServerAck(deps, queueId, position, at);

  const write = await deps.store.applyReceipt(queueId, position, status, at.toISOString(), receipt.error);
  if (!write.applied) {
    if (write.current === 'sending') return retryLater('contact not marked sent yet');
    if (!write.current) return ignored('unknown_message', `no contact for message ${clip(messageId)}`);
    if (!reflects(write.current, status)) return ignored('stale_receipt', `contact is ${write.current}`);
    // A duplicate: the ERP's events are idempotent, so repeating them only fills a gap a crash left.
    await emitReceipt(deps, queueId, position, status, messageId, at);
    return ignored('duplicate', `duplicate ${status}`);
  }
  const deltas = receiptDeltas(write.previous, status, write.wasStalled === true);
  await deps.store.addToQueueCounters(queueId, deltas);
  // One write per receipt, like the queue counters: receipts come one per webhook.
  await countTenantFigures(deps, instance.tenantId, at, figuresOfCounterDeltas(deltas));
  // The metrics follow the counters, so a read arriving first counts a delivery too.
  const about = metricEvent(message);
  if (about && deltas.contactsDelivered) deps.metrics.messageDelivered(about);
  if (about && deltas.contactsRead) deps.metrics.messageRead(about);
  await emitReceipt(deps, queueId, position, status, messageId, at, write.previous);
  return applied(`${write.previous} -> ${status}`);
};

/**
 * WhatsApp's server took the message. Not a delivery (the status stays `sent`), but proof it is not
 * stalled: recorded once as `serverAckAt`; one that ends a stall takes the contact out of
 * `contacts_stalled`. Like receipts, one for a contact still `sending` is retried later.
 */
const applyServerAck = async (
  deps: ApplyGatewayEventsDeps,
  queueId: string,
  position: number,
  at: Date,
): Promise<IngestOutcome> => {
  const write = await deps.store.recordServerAck(queueId, position, at.toISOString());
  if (!write.recorded) {
    if (write.current === 'sending') return retryLater('contact not marked sent yet');
    return ignored('duplicate', `server ack: contact is ${write.current ?? 'unknown'}`);
  }
  if (write.wasStalled) await deps.store.addToQueueCounters(queueId, { contactsStalled: -1 });
  return applied(write.wasStalled ? 'server ack (ends a stall)' : 'server ack');
};

const emitReceipt = async (
  deps: ApplyGatewayEventsDeps,
  queueId: string,
  position: number,
  receipt: ReceiptStatus,
  messageId: string,
  at: Date,
  previous?: ContactStatus,
): Promise<void> => {
  for (const name of receiptEvents(receipt, previous)) {
    await deps.events.emit({
      name,
      queueId,
      contactPosition: position,
      occurredAt: at.toISOString(),
      providerMessageId: messageId,
      error:
        name === 'failed' ? { code: 'DELIVERY_FAILED', message: 'WhatsApp informou falha na entrega' } : null,
    });
  }
};

/** The billing message a reply answers: the one it quotes, else the phone's latest within the window. */
const repliedMessage = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  reply: GatewayReply,
): Promise<ConversationMessage | undefined> => {
  if (reply.quotedMessageId) {
    const quoted = await deps.store.getMessage(instance.tenantId, instance.id, reply.quotedMessageId);
    if (isBillingMessage(quoted, instance.tenantId)) return quoted;
  }
  if (!reply.fromPhone) return undefined;
  const since = new Date(deps.clock.now().getTime() - REPLY_MATCH_WINDOW_MS).toISOString();
  let latest: ConversationMessage | undefined;
  // Over both 9th-digit spellings of a Brazilian mobile.
  for (const spelling of phoneSpellings(reply.fromPhone)) {
    const history = await deps.store.listMessages(instance.tenantId, spelling, REPLY_MATCH_SCAN);
    const found = history.find((m) => isBillingMessage(m, instance.tenantId) && m.at >= since);
    if (found && (!latest || found.at > latest.at)) latest = found;
  }
  return latest;
};

/**
 * Applies a reply:
 * 1. the billing message it answers (repliedMessage);
 * 2. the reply joins the history, under the contact's phone when matched so the conversation
 *    reopens; a sender without a known phone keeps the gateway's id for it. Dated by the event (ms),
 *    never before the message it answers, or the history would misorder. Only if no message of the
 *    tenant's instance has its id yet: a duplicate, or a forged id, never replaces a record. It
 *    expires after the tenant's retention, counted from its date, like every conversation entry;
 * 3. what it means; an opt-out request suppresses the phone (each spelling when unmatched) and counts
 *    in the tenant's figures once, when it put the phone on the list;
 * 4. counted once per contact (the conditional write; queue counter and tenant's figures), and the
 *    ERP hears about it.
 */
const applyReply = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  reply: GatewayReply,
): Promise<IngestOutcome> => {
  const original = await repliedMessage(deps, instance, reply);
  const after = original ? new Date(original.at).getTime() + 1 : reply.at.getTime();
  const when = new Date(Math.max(reply.at.getTime(), after)).toISOString();
  const retentionDays = await tenantRetentionDays(deps.store, instance.tenantId);
  // A replay finds its message recorded and goes on: what follows is idempotent, and may be what a
  // crash left undone the first time.
  await deps.store.recordMessage(
    {
      id: reply.messageId,
      tenantId: instance.tenantId,
      phone: original?.phone ?? reply.sender,
      instanceId: instance.id,
      direction: 'inbound',
      text: reply.text || `[${reply.contentType ?? 'mensagem'}]`,
      at: when,
      queueId: original?.queueId ?? null,
      contactPosition: original?.contactPosition ?? null,
      campaignId: original?.campaignId ?? null,
      externalId: original?.externalId ?? null,
      templateType: original?.templateType ?? null,
    },
    retentionEnd(when, retentionDays),
  );

  const { intent, optOut } = classifyReply(reply.text);
  if (optOut) await optOutByReply(deps, instance, reply, original, when);
  if (!original)
    return ignored(
      'unmatched_reply',
      reply.fromPhone
        ? `reply of ${maskPhone(reply.fromPhone)} matches no billing message`
        : 'reply from a sender whose phone is hidden',
    );

  const queueId = original.queueId as string;
  const position = original.contactPosition as number;
  if (await deps.store.markContactReplied(queueId, position, when)) {
    await deps.store.addToQueueCounters(queueId, { contactsReplied: 1 });
    await countTenantFigures(deps, instance.tenantId, new Date(when), { replied: 1 });
    const about = metricEvent(original);
    if (about) deps.metrics.replyReceived(about);
  }
  await deps.events.emit({
    name: 'replied',
    queueId,
    contactPosition: position,
    occurredAt: when,
    providerMessageId: reply.messageId,
    reply: { text: reply.text, intent },
  });
  return applied(`reply (${intent}${optOut ? ', opt-out' : ''})`);
};

/** Suppresses the phone that asked to stop: the matched contact's, else each spelling of the sender's. */
const optOutByReply = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  reply: GatewayReply,
  original: ConversationMessage | undefined,
  when: string,
): Promise<void> => {
  const phones = original ? [original.phone] : reply.fromPhone ? phoneSpellings(reply.fromPhone) : [];
  let created = false;
  for (const phone of phones) {
    const put = await deps.store.putOptOut({
      tenantId: instance.tenantId,
      phone,
      source: 'reply',
      reason: reply.text.slice(0, MAX_OPT_OUT_REASON),
      at: when,
    });
    created ||= put === 'created';
  }
  // One person asking, whatever the number of spellings; a repeated request was counted the first time.
  if (created) await countTenantFigures(deps, instance.tenantId, new Date(when), { opted_out: 1 });
  if (phones.length > 0)
    deps.logger.info('phone opted out by reply', { phone: maskPhone(phones[0] as string) });
};

/** Every queue of the tenant in `status` that sends through `instanceId`. */
const queuesOfInstance = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  status: QueueStatus,
): Promise<BillingQueue[]> => {
  const found: BillingQueue[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listQueues(instance.tenantId, { status, limit: LIST_PAGE, cursor });
    found.push(...page.items.filter((q) => q.instanceId === instance.id && q.status === status));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return found;
};

/** Remembers the instance's state; a lost connection stops its open queues, a regained one resumes them. */
const applyConnection = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  connection: GatewayConnection,
): Promise<IngestOutcome> => {
  const { state } = connection;
  await deps.store.setInstanceConnectionState(instance.tenantId, instance.id, state);
  if (state === 'close') {
    const moved = await stopQueuesOfInstance(deps, instance, connection.reportedAs);
    return applied(`instance ${state}: ${moved} queue(s) stopped`);
  }
  if (state === 'open') {
    const moved = await resumeQueuesOfInstance(deps, instance);
    return applied(`instance open: ${moved} queue(s) resumed`);
  }
  return applied(`instance ${state}`);
};

/** Moves the instance's open queues to `instance_down`, each re-checked by the pump in a minute. */
const stopQueuesOfInstance = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  reportedAs: string,
): Promise<number> => {
  const now = deps.clock.now();
  const at = new Date(now.getTime() + RECHECK_AFTER_CLOSE_MS);
  let moved = 0;
  for (const status of STOPPED_BY_CLOSE) {
    for (const queue of await queuesOfInstance(deps, instance, status)) {
      const down = await transitionWithMetrics(deps, queue, [status], 'instance_down', {
        pausedAt: now.toISOString(),
        pauseReason: `Instância WhatsApp desconectada (${reportedAs}); nova verificação em 1 min`,
        nextRunAt: at.toISOString(),
      });
      if (!down) continue;
      moved += 1;
      // The pump re-checks then (and backs off while it stays down), should `open` never come.
      const generation = await deps.store.nextPublishGeneration(down.id);
      await scheduleOrLeaveToSweeper(
        deps,
        `recheck-${down.id}-${at.getTime()}`,
        at,
        workItemOf(down, generation),
      );
    }
  }
  return moved;
};

/** Resumes the instance's `instance_down` queues at once (`pending`, and their work published). */
const resumeQueuesOfInstance = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
): Promise<number> => {
  let moved = 0;
  for (const queue of await queuesOfInstance(deps, instance, 'instance_down')) {
    const resumed = await transitionWithMetrics(deps, queue, ['instance_down'], 'pending', {
      pausedAt: null,
      pauseReason: '',
      nextRunAt: null,
    });
    if (!resumed) continue;
    moved += 1;
    await publishContinuation(deps, resumed);
  }
  return moved;
};
