import { maskPhone } from '../domain/phone.ts';
import { classifyReply } from '../domain/reply-intent.ts';
import { retentionEnd } from '../domain/retention.ts';
import type { WhatsAppInstance } from '../domain/tenant-types.ts';
import type { MessageRecord } from '../domain/types.ts';
import type { GatewayReply } from '../ports/gateway-events.ts';
import { allOf } from './bounded.ts';
import {
  type ApplyGatewayEventsDeps,
  applied,
  type IngestOutcome,
  ignored,
  isBillingMessage,
  metricEvent,
  retryLater,
} from './gateway-event-intake.ts';
import { MAX_OPT_OUT_REASON, phoneSpellings } from './opt-outs.ts';
import { countTenantFigures } from './tenant-figures.ts';
import { tenantRetentionDays } from './tenant-retention.ts';

/** A reply without a quoted message matches the phone's latest billing message within this window. */
const REPLY_MATCH_WINDOW_MS = 7 * 86_400_000;

/** Messages read per phone spelling when matching a reply. */
const REPLY_MATCH_SCAN = 20;

/**
 * How long after a send is recorded the phone's history may still not show it. The history is an
 * index (gsi1), read eventually consistent; DynamoDB's usually catch up within a second. Evolution's
 * first retry of a webhook comes 5 s later, past this.
 */
export const PHONE_HISTORY_SETTLE_MS = 3_000;

/** The billing message a reply answers (none: it matches none), or `unsettled`: ask again later. */
type RepliedMessage = { message: MessageRecord | undefined } | 'unsettled';

/**
 * The billing message a reply answers: the one it quotes, else the phone's latest within the
 * window, unless that may be the wrong one because a newer send is not in the history yet
 * (`mayMissRecentSend`).
 */
const repliedMessage = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  reply: GatewayReply,
): Promise<RepliedMessage> => {
  if (reply.quotedMessageId) {
    const quoted = await deps.store.getMessage(instance.tenantId, instance.id, reply.quotedMessageId);
    if (isBillingMessage(quoted, instance.tenantId)) return { message: quoted };
  }
  if (!reply.fromPhone) return { message: undefined };
  const since = new Date(deps.clock.now().getTime() - REPLY_MATCH_WINDOW_MS).toISOString();
  let latest: MessageRecord | undefined;
  // Over both 9th-digit spellings of a Brazilian mobile.
  for (const spelling of phoneSpellings(reply.fromPhone)) {
    const history = await deps.store.listMessageRecords(instance.tenantId, spelling, REPLY_MATCH_SCAN);
    const found = history.find((m) => isBillingMessage(m, instance.tenantId) && m.at >= since);
    if (found && (!latest || found.at > latest.at)) latest = found;
  }
  if (await mayMissRecentSend(deps, instance, reply, latest)) return 'unsettled';
  return { message: latest };
};

/**
 * Whether the phone's history may lack the send this unquoted reply answers: a reply seconds after
 * a send (a business's automatic greeting or away message, a quick "ok") would otherwise go to the
 * phone's previous billing message, or to none. True only when all of these hold:
 * - WhatsApp dates the reply (`sentAt`, the same on every retry of the webhook) less than
 *   PHONE_HISTORY_SETTLE_MS ago (to the second), so a send it answers may not be in the history yet;
 * - the history shows no billing message from within that time (one there is the send just made:
 *   a phone is not billed twice within seconds);
 * - the instance may have sent within it: its lease is held, or its last send is that recent
 *   (one strongly consistent read of the lease).
 * Evolution's retry (5 s later) then reads a settled history.
 */
const mayMissRecentSend = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  reply: GatewayReply,
  latest: MessageRecord | undefined,
): Promise<boolean> => {
  if (!reply.sentAt) return false;
  const settledBefore = deps.clock.now().getTime() - PHONE_HISTORY_SETTLE_MS;
  // In whole seconds: the reply went out within the second after `sentAt`.
  if (reply.sentAt.getTime() + 1000 <= settledBefore) return false;
  if (latest && Date.parse(latest.at) >= settledBefore) return false;
  const lastSend = await deps.store.lastPossibleSendAt(instance.tenantId, instance.id);
  return lastSend !== null && Date.parse(lastSend) >= settledBefore;
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
export const applyReply = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  reply: GatewayReply,
): Promise<IngestOutcome> => {
  const answered = await repliedMessage(deps, instance, reply);
  // Nothing is written before this: the retry finds the reply new.
  if (answered === 'unsettled')
    return retryLater('reply may answer a send the phone history does not show yet');
  const original = answered.message;
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
  const firstReply = await deps.store.markContactReplied(queueId, position, when);
  // Counted once, by the reply that marked the contact; the ERP hears of every reply. Independent
  // writes, at once.
  await allOf([
    ...(firstReply
      ? [
          deps.store.addToQueueCounters(queueId, { contactsReplied: 1 }),
          countTenantFigures(deps, instance.tenantId, new Date(when), { replied: 1 }),
        ]
      : []),
    deps.events.emit({
      name: 'replied',
      queueId,
      contactPosition: position,
      occurredAt: when,
      providerMessageId: reply.messageId,
      reply: { text: reply.text, intent },
    }),
  ]);
  const about = metricEvent(original);
  if (firstReply && about) deps.metrics.replyReceived(about);
  return applied(`reply (${intent}${optOut ? ', opt-out' : ''})`);
};

/** Suppresses the phone that asked to stop: the matched contact's, else each spelling of the sender's. */
const optOutByReply = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  reply: GatewayReply,
  original: MessageRecord | undefined,
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
