import { ERASED_MARKER } from '../../domain/debtor-erasure.ts';
import type { CallbackEvent } from '../../domain/types.ts';
import type { CallbackDelivery, CallbackPayload, StoredCallbackEvent } from '../../ports/store.ts';
import { type Item, toEntity, type UpdateInput } from './dynamodb-operations.ts';
import { GSI1, keys, PK, SK, TTL_ATTRIBUTE, ttlSeconds } from './table-schema.ts';
import { Expression } from './update-expression.ts';

/*
 * How a callback event and its delivery are stored (docs/data-model.md, Callback event): the
 * immutable event item (`QUEUE#<queueId>` / `CALLBACK#<eventId>`, listed by tenant in gsi1) and the
 * small delivery item (`CBDELIVERY#<eventId>`), and how both read back into a StoredCallbackEvent.
 * The store (dynamodb-callback-store.ts) decides when each is written.
 */

export const CALLBACK_PREFIX = 'CALLBACK#';
export const QUEUE_PREFIX = 'QUEUE#';
export const DELIVERY_PREFIX = 'CBDELIVERY#';

/** The delivery of an event nobody has attempted yet: announced on the callbacks queue, in no index. */
export const ANNOUNCED: CallbackDelivery = {
  status: 'pending',
  attempts: 0,
  nextAttemptAt: null,
  lastAttemptAt: null,
  lastError: null,
  deliveredAt: null,
};

export const isAnnounced = (d: CallbackDelivery): boolean =>
  (Object.keys(ANNOUNCED) as (keyof CallbackDelivery)[]).every((k) => d[k] === ANNOUNCED[k]);

/**
 * Set on an event item stored by the callbacks queue's consumer from its announcement: that
 * consumer makes the first attempt without a claim write (its conditional put is the claim), and
 * this is the end of that attempt's lease. The delivery item is first written by the attempt's
 * result, or by a deliverer taking over once the lease has passed.
 */
export const FIRST_ATTEMPT_UNTIL = 'firstAttemptUntil';

/** An item written before the delivery state moved to its own item: the state is its `delivery` map. */
export const isLegacyEvent = (item: Item): boolean => item.delivery !== undefined;

/** `<queueId>:<position>:<event>` or `<queueId>:<event>`: the name is what follows the last `:`. */
export const eventNameOf = (eventId: string): CallbackEvent =>
  eventId.slice(eventId.lastIndexOf(':') + 1) as CallbackEvent;

export const after = (text: string, prefix: string): string => text.slice(prefix.length);

/** A callback payload with the debtor's phone, name and free texts (reply, error) replaced by the marker. */
export const erasedCallbackPayload = (payload: CallbackPayload): CallbackPayload => ({
  ...payload,
  contact: payload.contact
    ? { ...payload.contact, telefone: ERASED_MARKER, nome_cliente: ERASED_MARKER }
    : null,
  // A gateway's refusal can quote the number; a reply is the debtor's own words.
  error: payload.error ? { ...payload.error, message: ERASED_MARKER } : null,
  reply: payload.reply ? { ...payload.reply, text: ERASED_MARKER } : null,
});

/**
 * The update that erases a stored event item's payload in place, or undefined when the payload holds
 * nothing of its debtor any more. Only the payload: a delivery attempt in flight records its result
 * as usual. Conditional on the item, so an event deleted meanwhile is not written back.
 */
export const payloadErasureOf = (item: Item): UpdateInput | undefined => {
  const payload = item.payload as CallbackPayload;
  const erased = erasedCallbackPayload(payload);
  if (JSON.stringify(erased) === JSON.stringify(payload)) return undefined;
  const e = new Expression().set('payload', erased);
  return {
    Key: { [PK]: item[PK], [SK]: item[SK] },
    ...e.update(`attribute_exists(${e.name(PK)})`),
    ReturnValues: 'NONE',
  };
};

/**
 * Whether a payload still holds something of its debtor: a contact event's phone (an erasure's own
 * events, and those it rewrote, carry the marker; a queue-level event has no contact).
 */
export const holdsDebtorData = (payload: CallbackPayload): boolean =>
  payload.contact !== null && payload.contact.telefone !== ERASED_MARKER;

/** The contact position in a contact event's id (`<queueId>:<position>:<event>`); undefined for a queue event. */
export const contactPositionOfEvent = (queueId: string, eventId: string): number | undefined => {
  const parts = eventId.slice(queueId.length + 1).split(':');
  const position = Number(parts[0]);
  return parts.length === 2 && eventId.startsWith(`${queueId}:`) && Number.isInteger(position)
    ? position
    : undefined;
};

/**
 * The event item: what the key says (event id, queue), the index key (occurred at) and nulls are
 * left out, and so are the payload fields they repeat; `toStoredEvent` puts them back. Under 1 KB
 * for a contact event, so each write of it is one unit.
 */
export const eventItemOf = (
  event: StoredCallbackEvent,
  expiresAt: string,
  firstAttemptUntil?: string,
): Item => {
  const { event_id, event: name, occurred_at, queue_id, ...rest } = event.payload;
  const payload: Item = Object.fromEntries(
    Object.entries(rest).filter(([, v]) => v !== null && v !== undefined),
  );
  // Kept only when they differ from what the keys say (emit never makes them differ).
  if (event_id !== event.eventId) payload.event_id = event_id;
  if (name !== event.event) payload.event = name;
  if (occurred_at !== event.occurredAt) payload.occurred_at = occurred_at;
  if (queue_id !== event.queueId) payload.queue_id = queue_id;
  return {
    ...keys.callback(event.queueId, event.eventId),
    ...keys.callbackEventsIndex(event.tenantId, event.occurredAt, event.eventId),
    tenantId: event.tenantId,
    apiKeyId: event.apiKeyId,
    createdAt: event.createdAt,
    ...(event.callbackUrl !== null ? { callbackUrl: event.callbackUrl } : {}),
    ...(event.event !== eventNameOf(event.eventId) ? { event: event.event } : {}),
    payload,
    ...(firstAttemptUntil !== undefined ? { [FIRST_ATTEMPT_UNTIL]: firstAttemptUntil } : {}),
    [TTL_ATTRIBUTE]: ttlSeconds(expiresAt),
  };
};

/** The delivery item of a state other than "announced" (nulls left out; in gsi2 while a retry waits). */
export const deliveryItemOf = (
  queueId: string,
  eventId: string,
  d: CallbackDelivery,
  ttl: unknown,
): Item => ({
  ...keys.callbackDelivery(queueId, eventId),
  status: d.status,
  attempts: d.attempts,
  ...(d.nextAttemptAt !== null ? { nextAttemptAt: d.nextAttemptAt } : {}),
  ...(d.lastAttemptAt !== null ? { lastAttemptAt: d.lastAttemptAt } : {}),
  ...(d.lastError !== null ? { lastError: d.lastError } : {}),
  ...(d.deliveredAt !== null ? { deliveredAt: d.deliveredAt } : {}),
  ...(d.status === 'pending' && d.nextAttemptAt !== null
    ? keys.dueIndex('CALLBACK', d.nextAttemptAt, eventId)
    : {}),
  ...(typeof ttl === 'number' ? { [TTL_ATTRIBUTE]: ttl } : {}),
});

const storedDelivery = (state: Item): CallbackDelivery => ({
  status: state.status as CallbackDelivery['status'],
  attempts: Number(state.attempts),
  nextAttemptAt: (state.nextAttemptAt as string | undefined) ?? null,
  lastAttemptAt: (state.lastAttemptAt as string | undefined) ?? null,
  lastError: (state.lastError as string | undefined) ?? null,
  deliveredAt: (state.deliveredAt as string | undefined) ?? null,
});

/**
 * An event's delivery from its delivery item and, for an event its consumer stored, the lease of
 * the first attempt that put made: attempt 1 until a result or a takeover writes the item. A due
 * entry written meanwhile (attempts 0: a re-emission whose publish failed) does not undo it.
 */
export const deliveryOf = (state: Item | undefined, firstAttemptUntil?: string): CallbackDelivery => {
  if (firstAttemptUntil !== undefined && (!state || Number(state.attempts) === 0))
    return { ...ANNOUNCED, attempts: 1, nextAttemptAt: firstAttemptUntil };
  return state ? storedDelivery(state) : { ...ANNOUNCED };
};

/** The first attempt's lease end of an event item its consumer stored (FIRST_ATTEMPT_UNTIL), if any. */
export const firstAttemptUntilOf = (item: Item): string | undefined =>
  item[FIRST_ATTEMPT_UNTIL] as string | undefined;

/** The event of an event item and its delivery item (none: announced, never attempted). */
export const toStoredEvent = (item: Item, state: Item | undefined): StoredCallbackEvent => {
  if (isLegacyEvent(item)) return toEntity<StoredCallbackEvent>(item);
  const eventId = after(String(item[SK]), CALLBACK_PREFIX);
  const queueId = after(String(item[PK]), QUEUE_PREFIX);
  const indexKey = String(item[GSI1.sk]);
  const occurredAt = indexKey.slice(0, indexKey.indexOf('#'));
  const event = (item.event as CallbackEvent | undefined) ?? eventNameOf(eventId);
  const stored = item.payload as Partial<CallbackPayload>;
  return {
    eventId,
    tenantId: String(item.tenantId),
    queueId,
    event,
    occurredAt,
    callbackUrl: (item.callbackUrl as string | undefined) ?? null,
    apiKeyId: String(item.apiKeyId),
    payload: {
      event_id: stored.event_id ?? eventId,
      event: stored.event ?? event,
      occurred_at: stored.occurred_at ?? occurredAt,
      external_id: stored.external_id as string,
      billing_campaign_id: stored.billing_campaign_id as string,
      queue_id: stored.queue_id ?? queueId,
      contact: stored.contact ?? null,
      message_id: stored.message_id ?? null,
      error: stored.error ?? null,
      reply: stored.reply ?? null,
      ...(stored.cancel_reason ? { cancel_reason: stored.cancel_reason } : {}),
    },
    delivery: deliveryOf(state, firstAttemptUntilOf(item)),
    createdAt: String(item.createdAt),
  };
};
