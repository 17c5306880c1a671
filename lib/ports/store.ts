import type { ContactDelivery } from '../domain/delivery-stall.ts';
import type {
  ApiKey,
  BillingConfig,
  BillingContact,
  BillingQueue,
  BillingTemplate,
  BusinessCalendar,
  CallbackEvent,
  Campaign,
  ConnectionState,
  ContactSendResult,
  ContactStatus,
  ConversationMessage,
  OptOut,
  Page,
  QueueCounter,
  QueueRunFields,
  QueueStatus,
  ReceiptStatus,
  TemplateType,
  Tenant,
  WhatsAppInstance,
} from '../domain/types.ts';

export interface PageRequest<S> {
  /** Only items in this status (all statuses when absent). */
  status?: S;
  /** Page size, 1..100. */
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** Outcome of an atomic counter increment that must never pass its limit. */
export type CounterResult =
  | { ok: true; value: number }
  /** Refused: adding would pass the limit; `value` is the current count, unchanged. */
  | { ok: false; value: number };

/**
 * Persistence of the billing domain. Every state change is a single-item conditional write
 * (the emulator has no transactions), so each method is atomic on its own.
 * Expected outcomes (already exists, not found, limit reached) come back as values.
 */
export interface Store {
  /** Creates a tenant; `exists` if the id is taken (nothing is overwritten). */
  createTenant(tenant: Tenant): Promise<'created' | 'exists'>;
  /** The tenant with its billing config, or undefined. */
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  /** All tenants (administration only; small numbers). */
  listTenants(): Promise<Tenant[]>;
  /** Merges the given config fields; undefined if the tenant does not exist. */
  updateTenantConfig(
    tenantId: string,
    patch: Partial<BillingConfig>,
    at: string,
  ): Promise<Tenant | undefined>;

  /** Stores a new key; `exists` if a key with the same hash (or id) is already stored. */
  createApiKey(key: ApiKey): Promise<'created' | 'exists'>;
  /** Looks a key up by the SHA-256 hash of the presented secret. */
  getApiKeyByHash(keyHash: string): Promise<ApiKey | undefined>;
  /** The tenant's keys, newest first. */
  listApiKeys(tenantId: string): Promise<ApiKey[]>;
  /** Deactivates a key; false if the tenant has no such key. */
  revokeApiKey(tenantId: string, keyId: string): Promise<boolean>;
  /** Adds one use and records when and from where (best effort, may be called without awaiting). */
  recordApiKeyUse(keyHash: string, at: string, ip: string): Promise<void>;
  /** Replaces the callback signing secrets of a key; false if not found. */
  setApiKeySigningSecrets(tenantId: string, keyId: string, secrets: string[]): Promise<boolean>;

  /** Creates or replaces the tenant's template of one type (use counts included). */
  putTemplate(template: BillingTemplate): Promise<void>;
  getTemplate(tenantId: string, type: TemplateType): Promise<BillingTemplate | undefined>;
  listTemplates(tenantId: string): Promise<BillingTemplate[]>;
  /** Adds to the use counts of variations, atomically, in one write (`counts`: variation id -> uses). */
  addVariationUses(tenantId: string, type: TemplateType, counts: Record<string, number>): Promise<void>;

  /** Creates or replaces an instance. */
  putInstance(instance: WhatsAppInstance): Promise<void>;
  getInstance(tenantId: string, instanceId: string): Promise<WhatsAppInstance | undefined>;
  listInstances(tenantId: string): Promise<WhatsAppInstance[]>;
  setInstanceConnectionState(tenantId: string, instanceId: string, state: ConnectionState): Promise<void>;

  /** Creates or replaces the tenant's business calendar. */
  putCalendar(tenantId: string, calendar: BusinessCalendar): Promise<void>;
  getCalendar(tenantId: string): Promise<BusinessCalendar | undefined>;

  /**
   * Adds `by` to the named counter unless the result would pass `limit` (null = no limit).
   * Atomic under concurrency. The counter disappears after `expiresAt` (TTL attribute).
   */
  incrementCounter(name: string, by: number, limit: number | null, expiresAt: Date): Promise<CounterResult>;
  /** Current value of a counter (0 when absent or expired). */
  getCounter(name: string): Promise<number>;

  /** Creates the campaign (state `creating`, held by `campaign.owner`) unless the tenant already has this external id. */
  createCampaign(campaign: Campaign): Promise<'created' | 'exists'>;
  getCampaign(tenantId: string, externalId: string): Promise<Campaign | undefined>;
  /**
   * Takes over a `creating` campaign whose lease ended before `now` (its request died, or is too
   * slow): sets `owner` and `leaseUntil`; false when it is `created` or another request still holds it.
   */
  takeOverCampaign(
    tenantId: string,
    externalId: string,
    owner: string,
    now: string,
    leaseUntil: string,
  ): Promise<boolean>;
  /**
   * Extends the lease of a `creating` campaign `owner` still holds; false when a retry took it over
   * (or it is `created`, or gone): the caller must stop writing.
   */
  holdCampaign(tenantId: string, externalId: string, owner: string, leaseUntil: string): Promise<boolean>;
  /** Records that the daily quota was reserved for this campaign. */
  markCampaignQuotaReserved(tenantId: string, externalId: string): Promise<void>;
  /**
   * `creating -> created` if `owner` still holds it; false when it already was `created` or another
   * request took it over.
   */
  completeCampaign(tenantId: string, externalId: string, owner: string): Promise<boolean>;
  /**
   * Removes a campaign still `creating` and held by `owner` (its request was refused after the put,
   * e.g. daily limit); false when there was none to remove (created, taken over, or gone).
   */
  deleteCreatingCampaign(tenantId: string, externalId: string, owner: string): Promise<boolean>;

  /**
   * Writes the contacts of a queue id no stored campaign names yet (BatchWriteItem, 25 a call,
   * unprocessed items retried), unconditionally. Only for a new batch, before its campaign is
   * stored: nobody else can know the queue id, so no write can land on a contact that moved on.
   */
  putFreshContacts(contacts: readonly BillingContact[]): Promise<void>;
  /** Removes contacts written by `putFreshContacts` whose campaign was never stored (or was removed). */
  deleteFreshContacts(queueId: string, positions: readonly number[]): Promise<void>;
  /**
   * Creates the contacts that do not exist yet (one conditional put each, bounded parallelism) and
   * never rewrites an existing one, so a late writer cannot send a contact that moved on back to
   * `pending`. Returns how many it created.
   */
  putContacts(contacts: readonly BillingContact[]): Promise<number>;
  /** Creates the queue unless it exists. */
  createQueue(queue: BillingQueue): Promise<'created' | 'exists'>;
  /** The queue by id, whatever its tenant (callers check `tenantId`). */
  getQueue(queueId: string): Promise<BillingQueue | undefined>;
  /** A tenant's queues, newest first. */
  listQueues(tenantId: string, page: PageRequest<QueueStatus>): Promise<Page<BillingQueue>>;
  /** A queue's contacts in batch order. */
  listContacts(queueId: string, page: PageRequest<ContactStatus>): Promise<Page<BillingContact>>;

  // --- Sending (design section 5: every step a single-item conditional write) ---

  /**
   * Contacts the pump may try now, in batch order after `afterPosition`: `pending`, and `retry`
   * whose `retryAt` has come. Candidates only: the claim decides.
   */
  listSendableContacts(
    queueId: string,
    now: string,
    limit: number,
    afterPosition?: number,
  ): Promise<BillingContact[]>;
  /**
   * Claims a contact before the gateway is called: `pending`, or `retry` due by `now`, becomes
   * `sending` and `attempts` grows by one. undefined when it is not claimable (already claimed,
   * sent, cancelled...), so a redelivered work item never sends a contact twice.
   */
  claimContact(queueId: string, position: number, now: string): Promise<BillingContact | undefined>;
  /**
   * Records a successful send: the claimed contact, rewritten whole as `sent` with the gateway's ids,
   * on the condition that it is still `sending` by this very claim (`claimed.claimedAt`), then its
   * conversation message (also the gateway-id pointer for webhooks). `false` when the claim was
   * settled by someone else meanwhile (a pump that took the contact for abandoned): the contact is
   * then left as that pump decided, and only the message is stored (it did go out).
   */
  recordSent(
    claimed: BillingContact,
    result: Extract<ContactSendResult, { status: 'sent' }>,
    message: ConversationMessage,
  ): Promise<boolean>;
  /**
   * Records the attempt's result on a contact in `sending`; false when it was not in `sending` (or,
   * given `claimedAt`, not by that claim any more).
   */
  finishContact(
    queueId: string,
    position: number,
    result: ContactSendResult,
    claimedAt?: string,
  ): Promise<boolean>;
  /**
   * A contact whose phone opted out is skipped without a claim: `pending`, or `retry`, becomes
   * `skipped_opt_out`. The status it had, or undefined when it was neither (claimed, cancelled...).
   */
  skipOptedOutContact(
    queueId: string,
    position: number,
    at: string,
  ): Promise<'pending' | 'retry' | undefined>;
  /** Contacts left in `sending` by a pump that died (index candidates confirmed by a consistent read). */
  listStuckContacts(queueId: string): Promise<BillingContact[]>;
  /**
   * Every contact of the queue read from the base table with a strongly consistent read: how many
   * are in each status, how many `failed` ones had been sent (a receipt failed them), the earliest
   * `retryAt`, and the contacts in `sending`. What decides that a queue is finished, and what the
   * sender's counters must say (it recounts after a crash). Never from an index: an index can lag.
   */
  summarizeContacts(queueId: string): Promise<ContactSummary>;
  /**
   * `pending` and `retry` contacts become `cancelled`; how many changed, and how many of those
   * were waiting in `retry` (the pending-retry counter gives them up).
   */
  cancelUnsentContacts(queueId: string, at: string): Promise<{ cancelled: number; fromRetry: number }>;
  /**
   * Moves the queue to `to` if its status is one of `from`, setting `fields` in the same write;
   * the updated queue, or undefined when the status did not match.
   */
  transitionQueue(
    queueId: string,
    from: readonly QueueStatus[],
    to: QueueStatus,
    fields?: QueueRunFields,
  ): Promise<BillingQueue | undefined>;
  /**
   * Adds to counters (negative allowed) and sets fields, in one write; returns the queue after the
   * change (its status tells a pump whether a pause or cancel arrived meanwhile).
   */
  updateQueueProgress(
    queueId: string,
    deltas: Partial<Record<QueueCounter, number>>,
    fields?: QueueRunFields,
  ): Promise<BillingQueue | undefined>;
  /** Adds one to the queue's publish generation and returns the new value. */
  nextPublishGeneration(queueId: string): Promise<number>;

  /**
   * Takes the instance's lease (one pump per instance) if it is free, expired, or already `owner`'s.
   * Returns whether it was acquired, when the instance last sent (for pacing across pumps), which
   * queue held it last, and which queue is waiting for it (so queues on one instance take turns).
   */
  acquireInstanceLease(
    tenantId: string,
    instanceId: string,
    owner: string,
    now: string,
    until: string,
  ): Promise<InstanceLease>;
  /** Extends the lease and records the last send; false when `owner` lost it. */
  renewInstanceLease(
    tenantId: string,
    instanceId: string,
    owner: string,
    until: string,
    lastSendAt: string | null,
  ): Promise<boolean>;
  /**
   * Frees the lease (if `owner` holds it), keeping the last send time for the next pump's pacing and
   * which queue just had its turn.
   */
  releaseInstanceLease(
    tenantId: string,
    instanceId: string,
    owner: string,
    lastSendAt: string | null,
    queueId: string,
  ): Promise<void>;
  /** Notes that `queueId` waits for the instance (the latest waiter wins); `null` clears it if it is `queueId`'s. */
  noteInstanceWaiter(tenantId: string, instanceId: string, queueId: string, at: string | null): Promise<void>;

  /** Stores a message of the conversation history (idempotent by instance + id). */
  recordMessage(message: ConversationMessage): Promise<void>;
  /** The history of (tenant, phone), newest first. */
  listMessages(tenantId: string, phone: string, limit: number): Promise<ConversationMessage[]>;
  /** A message by the gateway's id on an instance (webhook receipts and replies find their contact by it). */
  getMessage(instanceId: string, messageId: string): Promise<ConversationMessage | undefined>;

  /**
   * Open queues (pending, scheduled, running, instance_down) whose check time (`nextRunAt`, or
   * their last change) is at or before `upTo`, earliest first: the sweeper's candidates.
   */
  listDueQueues(upTo: string, limit: number): Promise<BillingQueue[]>;

  // --- Feedback: receipts, replies, opt-outs (gateway webhooks) ---

  /**
   * Applies a delivery receipt to a sent contact in one conditional write that only moves forward
   * (sent -> delivered -> read; sent -> failed), keeping its index entry in step. `applied` with the
   * status it had (to count exactly once), or the status that refused it (undefined: no contact).
   */
  applyReceipt(
    queueId: string,
    position: number,
    receipt: ReceiptStatus,
    at: string,
    error?: string,
  ): Promise<
    | {
        applied: true;
        previous: ContactStatus /** it was stalled until this receipt */;
        wasStalled?: boolean;
      }
    | { applied: false; current: ContactStatus | undefined }
  >;
  /** Records the contact's first reply (`repliedAt`); false when it had replied already or does not exist. */
  markContactReplied(queueId: string, position: number, at: string): Promise<boolean>;
  /** Stores an opt-out unless the phone already has one (the first one, and its time, are kept). */
  putOptOut(optOut: OptOut): Promise<'created' | 'exists'>;
  getOptOut(tenantId: string, phone: string): Promise<OptOut | undefined>;
  /** Removes an opt-out; false when there was none. */
  deleteOptOut(tenantId: string, phone: string): Promise<boolean>;
  /**
   * Whether the tenant may have opt-outs (false only when it never had one), from a strongly
   * consistent read: an opt-out stored a moment ago is never missed, unlike an index listing.
   */
  hasOptOuts(tenantId: string): Promise<boolean>;
  /** Which of these E.164 phones opted out (BatchGetItem, 100 keys a call). */
  findOptedOut(tenantId: string, phones: readonly string[]): Promise<Set<string>>;
  /** The tenant's opt-outs, newest first. */
  listOptOuts(tenantId: string, page: Omit<PageRequest<never>, 'status'>): Promise<Page<OptOut>>;

  // --- Stalled deliveries: sent messages with no acknowledgement (docs/data-model.md, Delivery watch) ---

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

  // --- Callbacks to the ERP: events and their delivery ---

  /** Stores an event unless one with its id exists (the dedup of `BillingEvents.emit`). */
  putCallbackEvent(event: StoredCallbackEvent): Promise<'created' | 'exists'>;
  getCallbackEvent(queueId: string, eventId: string): Promise<StoredCallbackEvent | undefined>;
  /** Pending events whose next attempt is at or before `now`, earliest first (candidates: the claim decides). */
  listDueCallbacks(now: string, limit: number): Promise<StoredCallbackEvent[]>;
  /**
   * Claims a due attempt: a `pending` event whose `nextAttemptAt <= now` gets `attempts + 1` and
   * `nextAttemptAt = leaseUntil` (so no other deliverer takes it meanwhile). undefined when not due.
   */
  claimCallback(
    queueId: string,
    eventId: string,
    now: string,
    leaseUntil: string,
  ): Promise<StoredCallbackEvent | undefined>;
  /** Records the result of claimed attempt number `attempt`; false when the claim was lost meanwhile. */
  finishCallbackAttempt(
    queueId: string,
    eventId: string,
    attempt: number,
    result: CallbackAttemptResult,
  ): Promise<boolean>;
  /** A tenant's events, oldest first: of one queue, or all of them; from `since` on. */
  listCallbackEvents(tenantId: string, query: CallbackEventQuery): Promise<Page<StoredCallbackEvent>>;
  /** One contact of a queue (an event's payload names it). */
  getContact(queueId: string, position: number): Promise<BillingContact | undefined>;
  /** A tenant's API key by id (its signing secrets sign the campaign's callbacks). */
  getApiKeyById(tenantId: string, keyId: string): Promise<ApiKey | undefined>;

  // --- Schedules of the store-backed scheduler (local mode; EventBridge Scheduler in AWS) ---

  /** Stores a schedule unless one with this name exists ('exists' then: a repeat is a no-op). */
  createSchedule(schedule: StoredSchedule): Promise<'created' | 'exists'>;
  /** Schedules due by `now`, earliest first (candidates: `claimSchedule` decides). */
  listDueSchedules(now: string, limit: number): Promise<StoredSchedule[]>;
  /** Removes a schedule and returns it, or undefined when another poller (or a cancel) got it first. */
  claimSchedule(name: string): Promise<StoredSchedule | undefined>;
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

export interface StoredSchedule {
  name: string;
  dueAt: string;
  /** The work item to publish, as JSON. */
  payload: string;
  createdAt: string;
}

/** Where an event stands with the ERP: `skipped` events are kept for the events API, never posted. */
export type CallbackDeliveryStatus = 'pending' | 'delivered' | 'dead' | 'skipped';

export interface CallbackDelivery {
  status: CallbackDeliveryStatus;
  /** Attempts started (a claim counts one). */
  attempts: number;
  /** While `pending`: when the next attempt may start (or the current claim's lease ends). */
  nextAttemptAt: string | null;
  /** When the last finished attempt ended (set with its result, not at the claim). */
  lastAttemptAt: string | null;
  lastError: string | null;
  deliveredAt: string | null;
}

/** The JSON body posted to the ERP, with the wire's field names. */
export interface CallbackPayload {
  event_id: string;
  event: CallbackEvent;
  occurred_at: string;
  external_id: string;
  billing_campaign_id: string;
  queue_id: string;
  /** null for queue-level events. */
  contact: { telefone: string; nome_cliente: string; numero_fatura: string | null } | null;
  /** The gateway's message id. */
  message_id: string | null;
  error: { code: string; message: string } | null;
  reply: { text: string; intent: string } | null;
}

/** One event for the ERP and the state of its delivery. */
export interface StoredCallbackEvent {
  /** `<queueId>:<position>:<event>` or `<queueId>:queue.completed`: deterministic, so emitting twice stores once. */
  eventId: string;
  tenantId: string;
  queueId: string;
  event: CallbackEvent;
  occurredAt: string;
  /** Where to post (null: the campaign asked for no callbacks). */
  callbackUrl: string | null;
  /** The campaign's API key: its signing secrets sign the callback. */
  apiKeyId: string;
  payload: CallbackPayload;
  delivery: CallbackDelivery;
  createdAt: string;
}

/** The result of one delivery attempt. */
export type CallbackAttemptResult =
  | { status: 'delivered'; at: string }
  | { status: 'pending'; at: string; error: string; nextAttemptAt: string }
  | { status: 'dead'; at: string; error: string };

export interface CallbackEventQuery {
  /** Only this queue's events (the caller checked the queue is the tenant's). */
  queueId?: string;
  /** Only events that occurred at or after this instant. */
  since?: string;
  /** Page size, 1..100. */
  limit: number;
  cursor?: string;
}

/** What a strongly consistent read of all of a queue's contacts says (see `summarizeContacts`). */
export interface ContactSummary {
  byStatus: Partial<Record<ContactStatus, number>>;
  failedAfterSend: number;
  /** The earliest `retryAt` among contacts in `retry`; null when none waits. */
  earliestRetryAt: string | null;
  /** Contacts in `sending` (claimed; the gateway may be on it right now, or its pump died). */
  sending: BillingContact[];
}

export interface InstanceLease {
  acquired: boolean;
  lastSendAt: string | null;
  /** The queue whose pump held the lease last. */
  lastHolderQueueId: string | null;
  /** A queue that found the lease busy and waits for its turn. */
  waiter: { queueId: string; at: string } | null;
}
