import { createHmac, timingSafeEqual } from 'node:crypto';
import { maskPhone } from '../domain/phone.ts';
import { classifyReply } from '../domain/reply-intent.ts';
import type {
  BillingQueue,
  CallbackEvent,
  ConnectionState,
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
import type { MessageEvent, Metrics, WebhookIgnoredReason } from '../ports/metrics.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import type { Store } from '../ports/store.ts';
import type { WorkQueue } from '../ports/work-queue.ts';
import { scheduleOrLeaveToSweeper } from './fallback-to-sweeper.ts';
import { MAX_OPT_OUT_REASON, phoneSpellings } from './opt-outs.ts';
import { publishContinuation, transitionWithMetrics, workItemOf } from './queue-work.ts';

/** The ports the webhook intake uses. */
export interface IngestDeps {
  store: Store;
  events: BillingEvents;
  clock: Clock;
  workQueue: WorkQueue;
  scheduler: Scheduler;
  logger: Logger;
  metrics: Metrics;
}

/** The static header Evolution is configured to send (webhook `headers`), holding the instance's secret. */
export const WEBHOOK_SECRET_HEADER = 'x-webhook-secret';
/** Where Evolution posts an instance's events; the tenant is in the path because instance ids are per tenant. */
export const WEBHOOK_BASE_PATH = '/api/v1/billing/webhooks/evolution';

/** The webhook URL of one of our instances under a public base URL (what `instance webhook` configures). */
export const evolutionWebhookUrl = (publicBaseUrl: string, tenantId: string, instanceId: string): string =>
  `${publicBaseUrl.replace(/\/+$/, '')}${WEBHOOK_BASE_PATH}/${encodeURIComponent(tenantId)}/${encodeURIComponent(instanceId)}`;

/** What happened to one webhook: applied, ignored (not ours, echo, duplicate...), or to be retried by Evolution. */
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
 * A receipt for a message id we have not recorded may be ours still in flight (Evolution can post
 * before our sendText call returns): asked to be retried for this long after the event, then dropped.
 */
const UNKNOWN_MESSAGE_GRACE_MS = 2 * 60_000;
/** A reply without a quoted message matches the phone's latest billing message within this window. */
const REPLY_MATCH_WINDOW_MS = 7 * 86_400_000;
/** Messages read per phone spelling when matching a reply. */
const REPLY_MATCH_SCAN = 20;
/** JWT clock skew tolerated on `exp` and `nbf`. */
const JWT_LEEWAY_SECONDS = 60;
/**
 * How far ahead a webhook JWT's `exp` may be: a token that never expires (or in a year) is a
 * password that leaks through every proxy log. Evolution's `jwt_key` tokens expire in 10 minutes.
 */
export const JWT_MAX_LIFETIME_SECONDS = 3600;
/**
 * `date_time` is the server's wall-clock time with a `Z` suffix (not UTC unless the server runs in
 * UTC), and zone offsets are whole quarter hours: only its position within a quarter hour is
 * trusted, which gives the event's age as long as it is under 7.5 minutes.
 */
const QUARTER_HOUR_MS = 15 * 60_000;
/** 2.4's `X-Timestamp` (epoch ms, one per event, repeated by retries) is trusted within this age. */
const MAX_HEADER_AGE_MS = 86_400_000;
/** Queue statuses a `connection.update: close` stops, and the re-check delay it schedules. */
const STOPPED_BY_CLOSE: readonly QueueStatus[] = ['running', 'pending', 'scheduled'];
const RECHECK_AFTER_CLOSE_MS = 60_000;
const LIST_PAGE = 100;

/** Statuses Evolution sends that we know and do not track (still on the way); any other is unknown. */
const UNTRACKED_STATUSES: ReadonlySet<string> = new Set(['PENDING', '1']);
/** WhatsApp's server took the message: recorded (not stalled), the status does not move. */
const SERVER_ACK_STATUSES: ReadonlySet<string> = new Set(['SERVER_ACK', '2']);

const RECEIPT_BY_STATUS: Readonly<Record<string, ReceiptStatus>> = {
  DELIVERY_ACK: 'delivered',
  READ: 'read',
  PLAYED: 'read',
  ERROR: 'failed',
  // Baileys' numeric statuses, which some Evolution versions pass through.
  '0': 'failed',
  '3': 'delivered',
  '4': 'read',
  '5': 'read',
};

// ---------------------------------------------------------------------------------------------
// Authentication

const digest = (value: string): Buffer => createHmac('sha256', 'webhook-compare').update(value).digest();

/** Constant-time string equality (compares fixed-length digests, so length leaks nothing either). */
const safeEqual = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

const decodeJson = (part: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

/** Signs claims as an HS256 JWT (what Evolution does with the `jwt_key` webhook option). */
export const signHs256Jwt = (claims: Record<string, unknown>, secret: string): string => {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
};

/**
 * Verifies an HS256 JWT signed with `secret`: the algorithm must be HS256 (never `none` or another
 * one the header asks for), the signature must match, `exp` must be present, not past and at most an
 * hour ahead (plus the leeway), and `nbf`, when present, must hold at `now`.
 */
export const verifyHs256Jwt = (token: string, secret: string, now: Date): boolean => {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const [header, payload, signature] = parts as [string, string, string];
  if (decodeJson(header)?.alg !== 'HS256') return false;
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const presented = Buffer.from(signature, 'base64url');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return false;
  const claims = decodeJson(payload);
  if (!claims) return false;
  const seconds = now.getTime() / 1000;
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return false;
  if (seconds >= claims.exp + JWT_LEEWAY_SECONDS) return false;
  if (claims.exp > seconds + JWT_MAX_LIFETIME_SECONDS + JWT_LEEWAY_SECONDS) return false;
  if (typeof claims.nbf === 'number' && seconds < claims.nbf - JWT_LEEWAY_SECONDS) return false;
  return true;
};

/**
 * Whether a webhook request proves it knows the instance's secret: the static `x-webhook-secret`
 * header, or `Authorization: Bearer <HS256 JWT signed with the secret>` (Evolution's `jwt_key`).
 * Header names are lower-case (as the HTTP layer gives them).
 */
export const isWebhookAuthentic = (secret: string, headers: Record<string, string>, now: Date): boolean => {
  if (secret === '') return false;
  const presented = headers[WEBHOOK_SECRET_HEADER];
  if (presented !== undefined && safeEqual(presented, secret)) return true;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return bearer?.[1] !== undefined && verifyHs256Jwt(bearer[1], secret, now);
};

// ---------------------------------------------------------------------------------------------
// Pure helpers

const record = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** `messages.update`, `MESSAGES_UPDATE` and the by-events suffix `messages-update` all name one event. */
export const normalizeEventName = (name: string): string => name.trim().toLowerCase().replace(/[_-]/g, '.');

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

/** Callback events a receipt stands for (a read implies the delivery); emitting them again is a no-op. */
const receiptEvents = (receipt: ReceiptStatus): CallbackEvent[] =>
  receipt === 'read' ? ['delivered', 'read'] : [receipt];

/** Whether a contact already in `current` reflects the receipt (a duplicate or a late, older receipt). */
const reflects = (current: ContactStatus, receipt: ReceiptStatus): boolean =>
  receipt === 'failed'
    ? current === 'failed'
    : current === 'read' || (current === 'delivered' && receipt === 'delivered');

/** The phone of a JID (`5511999999999@s.whatsapp.net`, maybe with a device suffix `:12`) as E.164. */
const phoneOfJid = (jid: string): string | undefined => {
  const m = /^(\d{8,15})(?::\d+)?@s\.whatsapp\.net$/.exec(jid);
  return m?.[1] ? `+${m[1]}` : undefined;
};

/** The text of an incoming message (plain or extended text, a caption); '' for media without one. */
const messageText = (message: Record<string, unknown>): string =>
  text(message.conversation) ??
  text(record(message.extendedTextMessage).text) ??
  text(record(message.imageMessage).caption) ??
  text(record(message.videoMessage).caption) ??
  text(record(message.buttonsResponseMessage).selectedDisplayText) ??
  text(record(message.listResponseMessage).title) ??
  '';

const isBillingMessage = (m: ConversationMessage | undefined, tenantId: string): m is ConversationMessage =>
  m !== undefined &&
  m.tenantId === tenantId &&
  m.direction === 'outbound' &&
  m.queueId !== null &&
  m.contactPosition !== null;

/**
 * When Evolution saw the event: 2.4's `X-Timestamp` header when it is a plausible epoch in ms, else
 * the envelope's `date_time` read within a quarter hour (see QUARTER_HOUR_MS), else now. Never
 * after now; retries repeat the same instant, so its age tells a retry from a first attempt.
 */
export const eventInstant = (dateTime: unknown, xTimestamp: string | undefined, now: Date): Date => {
  const nowMs = now.getTime();
  const header = xTimestamp !== undefined && /^\d{10,16}$/.test(xTimestamp.trim()) ? Number(xTimestamp) : NaN;
  if (Number.isFinite(header) && header > nowMs - MAX_HEADER_AGE_MS) return new Date(Math.min(header, nowMs));
  const wallClock = typeof dateTime === 'string' ? Date.parse(dateTime) : NaN;
  if (!Number.isFinite(wallClock)) return now;
  // The age within a quarter hour, in [-7.5, 7.5) minutes: a small negative age is clock skew.
  const age =
    ((((nowMs - wallClock) % QUARTER_HOUR_MS) + QUARTER_HOUR_MS * 1.5) % QUARTER_HOUR_MS) -
    QUARTER_HOUR_MS / 2;
  return new Date(nowMs - Math.max(0, age));
};

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
const applied = (detail: string): IngestOutcome => ({ result: 'applied', detail });

// ---------------------------------------------------------------------------------------------
// The use case

/**
 * Applies one Evolution webhook of an (already authenticated) instance, design section 5:
 * - `messages.update` of our sends (`fromMe`): DELIVERY_ACK -> delivered, READ/PLAYED -> read,
 *   ERROR -> failed, SERVER_ACK -> recorded on the contact (not stalled; the status stays `sent`);
 *   the message item (instance, key id) names the contact; one forward-only conditional write on
 *   the contact, counters from the status it replaced, events for the ERP.
 *   A receipt that finds the contact still `sending` (the sender records the message before it
 *   marks the contact sent), or no message yet, asks Evolution to retry (`retry_later` -> 503);
 * - `messages.upsert` from the debtor: matched to the billing message it quotes (`stanzaId`), else
 *   to the phone's latest billing message within 7 days; stored as an inbound message (idempotent by
 *   its id), counted once per contact, classified, opt-out requests suppress the phone, `replied`;
 * - `connection.update`: remembers the state; `close` stops the instance's open queues
 *   (`instance_down`, re-checked by the pump in a minute), `open` resumes them at once;
 * - `send.message` (our own send echoed) and anything else: ignored.
 * Every step is idempotent, so Evolution's retries and duplicates change nothing twice.
 */
/** What the HTTP layer knows of one webhook besides its parsed body. */
export interface WebhookContext {
  /** The by-events path suffix (`messages-update`), used when the body names no event. */
  pathEvent?: string;
  /** Lower-case request headers (2.4's `x-timestamp` dates the event). */
  headers?: Record<string, string>;
  /** Why the body could not be read as JSON (the body is then undefined). */
  bodyProblem?: string;
}

/** At most this much of a value Evolution sent goes into a log line or an outcome's detail. */
const DETAIL_CHARS = 60;
const shown = (value: unknown): string =>
  (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))).slice(0, DETAIL_CHARS);

/**
 * Applies one Evolution webhook of an (already authenticated) instance, as a tolerant reader: only
 * the body's `event` (else the by-events path suffix), `data` and `instance` are read, and every
 * other envelope field (apikey, sender, date_time, destination, server_url, extra keys) may be null,
 * absent or of any type. A webhook that cannot be used is `ignored` (answered 2xx: Evolution never
 * retries a 4xx, so refusing would only lose it), logged at WARN and counted by reason. Design section 5:
 * - `messages.update` of our sends (`fromMe`): DELIVERY_ACK -> delivered, READ/PLAYED -> read,
 *   ERROR -> failed; the message item (instance, key id) names the contact; one forward-only
 *   conditional write on the contact, counters from the status it replaced, events for the ERP.
 *   A receipt that finds the contact still `sending` (the sender records the message before it
 *   marks the contact sent), or no message yet, asks Evolution to retry (`retry_later` -> 503);
 * - `messages.upsert` from the debtor: matched to the billing message it quotes (`stanzaId`), else
 *   to the phone's latest billing message within 7 days; stored as an inbound message (idempotent by
 *   its id), counted once per contact, classified, opt-out requests suppress the phone, `replied`;
 * - `connection.update`: remembers the state; `close` stops the instance's open queues
 *   (`instance_down`, re-checked by the pump in a minute), `open` resumes them at once;
 * - `send.message` (our own send echoed) and anything else: ignored.
 * Every step is idempotent, so Evolution's retries and duplicates change nothing twice.
 */
export const ingestGatewayEvent = async (
  deps: IngestDeps,
  instance: WhatsAppInstance,
  body: unknown,
  context: WebhookContext = {},
): Promise<IngestOutcome> => {
  const envelope =
    body !== null && typeof body === 'object' && !Array.isArray(body) ? record(body) : undefined;
  const event = typeof envelope?.event === 'string' ? envelope.event : context.pathEvent;
  const outcome = envelope
    ? await dispatch(deps, instance, envelope, event, context)
    : ignored(
        'unreadable_body',
        context.bodyProblem ? `body is not JSON (${context.bodyProblem})` : 'body is not a JSON object',
      );
  if (outcome.result === 'ignored' && outcome.reason) {
    deps.metrics.webhookIgnored({ tenantId: instance.tenantId, reason: outcome.reason });
    const fields = {
      tenantId: instance.tenantId,
      instanceId: instance.id,
      event: shown(event ?? null),
      // The envelope's own instance name, only to tell misrouted webhooks apart in the logs.
      envelopeInstance: shown(envelope?.instance ?? null),
      reason: outcome.reason,
      detail: outcome.detail,
    };
    if (UNUSABLE.has(outcome.reason)) deps.logger.warn('gateway webhook ignored', fields);
    else deps.logger.debug('gateway webhook ignored', fields);
  }
  return outcome;
};

const dispatch = async (
  deps: IngestDeps,
  instance: WhatsAppInstance,
  envelope: Record<string, unknown>,
  event: string | undefined,
  context: WebhookContext,
): Promise<IngestOutcome> => {
  const name = normalizeEventName(event ?? '');
  const known = ['messages.update', 'messages.upsert', 'connection.update'].includes(name);
  if (name === 'send.message') return ignored('own_send', 'our own send, recorded by the sender');
  if (!known) return ignored('unknown_event', `event not used: ${shown(event ?? '(none)')}`);
  const raw = envelope.data;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return ignored('missing_data', `${name} without a data object`);
  const data = record(raw);
  const now = deps.clock.now();
  const at = eventInstant(envelope.date_time, context.headers?.['x-timestamp'], now);
  if (name === 'messages.update') return onReceipt(deps, instance, data, at, now);
  if (name === 'messages.upsert') return onIncoming(deps, instance, data, at, now);
  return onConnection(deps, instance, data, now);
};

const onReceipt = async (
  deps: IngestDeps,
  instance: WhatsAppInstance,
  data: Record<string, unknown>,
  at: Date,
  now: Date,
): Promise<IngestOutcome> => {
  if (data.fromMe === false) return ignored('incoming_message_receipt', 'receipt of an incoming message');
  const status =
    typeof data.status === 'string' || typeof data.status === 'number' ? String(data.status) : '';
  const receipt = RECEIPT_BY_STATUS[status];
  const serverAck = SERVER_ACK_STATUSES.has(status);
  if (!receipt && !serverAck && UNTRACKED_STATUSES.has(status))
    return ignored('status_not_tracked', `status not tracked: ${status}`);
  // DELETED (2.3's fallback for a status it does not know), or anything newer.
  if (!receipt && !serverAck)
    return ignored('unknown_status', `unknown status: ${shown(data.status ?? null)}`);
  const keyId = text(data.keyId) ?? text(record(data.key).id);
  if (!keyId) return ignored('missing_data', 'receipt without a message id');

  const message = await deps.store.getMessage(instance.id, keyId);
  if (!message) {
    // Maybe ours and not recorded yet; an id typed on the phone itself stops being retried soon.
    return now.getTime() - at.getTime() < UNKNOWN_MESSAGE_GRACE_MS
      ? { result: 'retry_later', detail: 'message not recorded yet' }
      : ignored('unknown_message', `no message ${shown(keyId)} of ours`);
  }
  if (!isBillingMessage(message, instance.tenantId))
    return ignored('unknown_message', `message ${shown(keyId)} is not a billing message`);
  const queueId = message.queueId as string;
  const position = message.contactPosition as number;
  if (!receipt) return onServerAck(deps, queueId, position, at);

  const write = await deps.store.applyReceipt(
    queueId,
    position,
    receipt,
    at.toISOString(),
    receipt === 'failed' ? 'WhatsApp informou falha na entrega (ERROR)' : undefined,
  );
  if (!write.applied) {
    if (write.current === 'sending') return { result: 'retry_later', detail: 'contact not marked sent yet' };
    if (!write.current) return ignored('unknown_message', `no contact for message ${shown(keyId)}`);
    if (!reflects(write.current, receipt)) return ignored('stale_receipt', `contact is ${write.current}`);
    // A duplicate: the ERP's events are idempotent, so repeating them only fills a gap a crash left.
    await emitReceipt(deps, queueId, position, receipt, keyId, at);
    return ignored('duplicate', `duplicate ${receipt}`);
  }
  const deltas = receiptDeltas(write.previous, receipt, write.wasStalled === true);
  await deps.store.updateQueueProgress(queueId, deltas);
  // The metrics follow the counters, so a read arriving first counts a delivery too.
  const about = metricEvent(message);
  if (about && deltas.contactsDelivered) deps.metrics.messageDelivered(about);
  if (about && deltas.contactsRead) deps.metrics.messageRead(about);
  await emitReceipt(deps, queueId, position, receipt, keyId, at);
  return applied(`${write.previous} -> ${receipt}`);
};

/**
 * SERVER_ACK: WhatsApp's server took the message. Not a delivery (the status stays `sent`), but
 * proof it is not stalled: recorded once as `serverAckAt`; one that ends a stall takes the contact
 * out of `contacts_stalled`. Like receipts, one for a contact still `sending` is retried later.
 */
const onServerAck = async (
  deps: IngestDeps,
  queueId: string,
  position: number,
  at: Date,
): Promise<IngestOutcome> => {
  const write = await deps.store.recordServerAck(queueId, position, at.toISOString());
  if (!write.recorded) {
    if (write.current === 'sending') return { result: 'retry_later', detail: 'contact not marked sent yet' };
    return ignored('duplicate', `server ack: contact is ${write.current ?? 'unknown'}`);
  }
  if (write.wasStalled) await deps.store.updateQueueProgress(queueId, { contactsStalled: -1 });
  return applied(write.wasStalled ? 'server ack (ends a stall)' : 'server ack');
};

const emitReceipt = async (
  deps: IngestDeps,
  queueId: string,
  position: number,
  receipt: ReceiptStatus,
  keyId: string,
  at: Date,
): Promise<void> => {
  for (const name of receiptEvents(receipt)) {
    await deps.events.emit({
      name,
      queueId,
      contactPosition: position,
      occurredAt: at.toISOString(),
      providerMessageId: keyId,
      error:
        name === 'failed' ? { code: 'DELIVERY_FAILED', message: 'WhatsApp informou falha na entrega' } : null,
    });
  }
};

/** The phone's latest billing message within the window, over both 9th-digit spellings. */
const latestBillingMessage = async (
  deps: IngestDeps,
  tenantId: string,
  phone: string,
  now: Date,
): Promise<ConversationMessage | undefined> => {
  const since = new Date(now.getTime() - REPLY_MATCH_WINDOW_MS).toISOString();
  let latest: ConversationMessage | undefined;
  for (const spelling of phoneSpellings(phone)) {
    const history = await deps.store.listMessages(tenantId, spelling, REPLY_MATCH_SCAN);
    const found = history.find((m) => isBillingMessage(m, tenantId) && m.at >= since);
    if (found && (!latest || found.at > latest.at)) latest = found;
  }
  return latest;
};

const onIncoming = async (
  deps: IngestDeps,
  instance: WhatsAppInstance,
  data: Record<string, unknown>,
  at: Date,
  now: Date,
): Promise<IngestOutcome> => {
  const key = record(data.key);
  const id = text(key.id);
  if (!id) return ignored('missing_data', 'message without an id');
  // Typed on the linked phone, or our own send echoed: not a reply.
  if (key.fromMe === true) return ignored('sent_from_linked_phone', 'sent by us');
  const jids = [key.remoteJid, key.remoteJidAlt, key.senderPn].filter(
    (j): j is string => typeof j === 'string',
  );
  if (jids.some((j) => j.endsWith('@g.us') || j.endsWith('@broadcast')))
    return ignored('group_or_broadcast', 'group or broadcast');
  const phone = jids.map(phoneOfJid).find((p) => p !== undefined);
  const message = record(data.message);
  const body = messageText(message);
  const stanzaId =
    text(record(data.contextInfo).stanzaId) ??
    text(record(record(message.extendedTextMessage).contextInfo).stanzaId);

  // 1. The billing message it answers: the one it quotes, else the phone's latest.
  let original: ConversationMessage | undefined;
  if (stanzaId) {
    const quoted = await deps.store.getMessage(instance.id, stanzaId);
    if (isBillingMessage(quoted, instance.tenantId)) original = quoted;
  }
  if (!original && phone) original = await latestBillingMessage(deps, instance.tenantId, phone, now);

  // 2. The reply joins the history (its own id: a duplicate overwrites the same item), under the
  //    contact's phone when matched so the conversation reopens; an @lid-only sender keeps its lid.
  // The envelope's time (ms), not `messageTimestamp` (whole seconds, which would sort the reply before
  // a send of the same second); never before the message it answers, or the history would misorder.
  const after = original ? new Date(new Date(original.at).getTime() + 1) : at;
  const when = (at > after ? at : after).toISOString();
  await deps.store.recordMessage({
    id,
    tenantId: instance.tenantId,
    phone: original?.phone ?? phone ?? jids[0] ?? 'unknown',
    instanceId: instance.id,
    direction: 'inbound',
    text: body || `[${text(data.messageType) ?? 'mensagem'}]`,
    at: when,
    queueId: original?.queueId ?? null,
    contactPosition: original?.contactPosition ?? null,
    campaignId: original?.campaignId ?? null,
    externalId: original?.externalId ?? null,
    templateType: original?.templateType ?? null,
  });

  // 3. What it means; an opt-out request suppresses the phone (each spelling when unmatched).
  const { intent, optOut } = classifyReply(body);
  if (optOut) {
    const phones = original ? [original.phone] : phone ? phoneSpellings(phone) : [];
    for (const p of phones) {
      await deps.store.putOptOut({
        tenantId: instance.tenantId,
        phone: p,
        source: 'reply',
        reason: body.slice(0, MAX_OPT_OUT_REASON),
        at: when,
      });
    }
    if (phones.length > 0)
      deps.logger.info('phone opted out by reply', { phone: maskPhone(phones[0] as string) });
  }
  if (!original)
    return ignored(
      'unmatched_reply',
      phone
        ? `reply of ${maskPhone(phone)} matches no billing message`
        : 'reply from an unmatched @lid sender',
    );

  // 4. Counted once per contact (the conditional write), and the ERP hears about it.
  const queueId = original.queueId as string;
  const position = original.contactPosition as number;
  if (await deps.store.markContactReplied(queueId, position, when)) {
    await deps.store.updateQueueProgress(queueId, { contactsReplied: 1 });
    const about = metricEvent(original);
    if (about) deps.metrics.replyReceived(about);
  }
  await deps.events.emit({
    name: 'replied',
    queueId,
    contactPosition: position,
    occurredAt: when,
    providerMessageId: id,
    reply: { text: body, intent },
  });
  return applied(`reply (${intent}${optOut ? ', opt-out' : ''})`);
};

/** Every queue of the tenant in `status` that sends through `instanceId`. */
const queuesOfInstance = async (
  deps: IngestDeps,
  tenantId: string,
  instanceId: string,
  status: QueueStatus,
): Promise<BillingQueue[]> => {
  const found: BillingQueue[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listQueues(tenantId, { status, limit: LIST_PAGE, cursor });
    found.push(...page.items.filter((q) => q.instanceId === instanceId && q.status === status));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return found;
};

const CONNECTION_STATES: Readonly<Record<string, ConnectionState>> = {
  open: 'open',
  connecting: 'connecting',
  close: 'close',
  // Only in webhooks: WhatsApp refused the session; for sending it is the same as closed.
  refused: 'close',
};

const onConnection = async (
  deps: IngestDeps,
  instance: WhatsAppInstance,
  data: Record<string, unknown>,
  now: Date,
): Promise<IngestOutcome> => {
  const state = CONNECTION_STATES[String(data.state ?? '')];
  if (!state)
    return ignored('unknown_connection_state', `connection state not tracked: ${shown(data.state ?? null)}`);
  await deps.store.setInstanceConnectionState(instance.tenantId, instance.id, state);
  const { store } = deps;
  let moved = 0;

  if (state === 'close') {
    const at = new Date(now.getTime() + RECHECK_AFTER_CLOSE_MS);
    for (const status of STOPPED_BY_CLOSE) {
      for (const queue of await queuesOfInstance(deps, instance.tenantId, instance.id, status)) {
        const down = await transitionWithMetrics(deps, queue, [status], 'instance_down', {
          pausedAt: now.toISOString(),
          pauseReason: `Instância WhatsApp desconectada (connection.update: ${String(data.state)}); nova verificação em 1 min`,
          nextRunAt: at.toISOString(),
        });
        if (!down) continue;
        moved += 1;
        // The pump re-checks then (and backs off while it stays down), should `open` never come.
        const generation = await store.nextPublishGeneration(down.id);
        await scheduleOrLeaveToSweeper(
          deps,
          `recheck-${down.id}-${at.getTime()}`,
          at,
          workItemOf(down, generation),
        );
      }
    }
    return applied(`instance ${state}: ${moved} queue(s) stopped`);
  }

  if (state === 'open') {
    for (const queue of await queuesOfInstance(deps, instance.tenantId, instance.id, 'instance_down')) {
      const resumed = await transitionWithMetrics(deps, queue, ['instance_down'], 'pending', {
        pausedAt: null,
        pauseReason: '',
        nextRunAt: null,
      });
      if (!resumed) continue;
      moved += 1;
      await publishContinuation(deps, resumed);
    }
    return applied(`instance open: ${moved} queue(s) resumed`);
  }
  return applied(`instance ${state}`);
};
