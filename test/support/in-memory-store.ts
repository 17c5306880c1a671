import {
  contactPositionOfEvent,
  erasedCallbackPayload,
  holdsDebtorData,
} from '../../lib/adapters/store/callback-event-items.ts';
import { withoutUndefined } from '../../lib/adapters/store/dynamodb-operations.ts';
import { OPEN_STATUSES, QUEUE_RUN_FIELDS } from '../../lib/adapters/store/dynamodb-queue-run-store.ts';
import { sentContact } from '../../lib/adapters/store/dynamodb-sending-store.ts';
import { decodeCursor, encodeCursor, invalidCursor } from '../../lib/adapters/store/page-cursor.ts';
import { QUEUE_COUNTERS } from '../../lib/adapters/store/queue-counters-item.ts';
import { epochSeconds, ttlSeconds } from '../../lib/adapters/store/table-schema.ts';
import { FIGURES, type Figures, hourStartOf, zeroFigures } from '../../lib/domain/activity-figures.ts';
import { DEFAULT_BILLING_CONFIG } from '../../lib/domain/billing-config.ts';
import { ERASED_MARKER, erasedContactFields } from '../../lib/domain/debtor-erasure.ts';
import type { ContactDelivery } from '../../lib/domain/delivery-stall.ts';
import { isStalled } from '../../lib/domain/delivery-stall.ts';
import { DomainError } from '../../lib/domain/errors.ts';
import { shouldApplyReceipt } from '../../lib/domain/queue-state.ts';
import { receiptCountsOfContacts, receiptCountsOfQueue } from '../../lib/domain/receipt-counts.ts';
import type {
  ApiKey,
  BillingTemplate,
  BusinessCalendar,
  Tenant,
  WhatsAppInstance,
} from '../../lib/domain/tenant-types.ts';
import {
  type BillingContact,
  type BillingQueue,
  type Campaign,
  CONTACT_STATUSES,
  type ContactStatus,
  type MessageRecord,
  type OptOut,
  type Page,
  QUEUE_STATUSES,
  type QueueCounter,
  type QueueRunFields,
} from '../../lib/domain/types.ts';
import { type Clock, systemClock } from '../../lib/ports/clock.ts';
import type {
  CancelledOnItsOwn,
  CounterResult,
  DebtorErasureRecord,
  DeliveryWatch,
  ErasureProgress,
  FailedContact,
  InstanceLease,
  PageRequest,
  ReceiptRecount,
  SentContact,
  Store,
  StoredCallbackEvent,
  StoredSchedule,
  WaitingStatus,
} from '../../lib/ports/store.ts';

/*
 * The whole Store in memory, for fast unit tests of use cases. It keeps the DynamoDB store's
 * semantics (the store contract suites in test/integration/store-contract/ run against both):
 * conditional writes that answer with values, 'created' | 'exists', the same page cursors and
 * orders, counters that expire by the clock, items that expire after their retention (absent to
 * the reads that leave expired items out, deleted by `deleteExpired`), the contact status rules,
 * leases and claims.
 * Every method runs to completion without awaiting anything, so each is atomic like one
 * conditional write. Values are deep-copied in and out: a caller never holds stored state.
 */

/** A stored copy: `undefined` dropped (as DynamoDB drops it), nothing shared with the caller. */
const copy = <T>(value: T): T => structuredClone(withoutUndefined(value));

/** Whether the attribute exists, as DynamoDB's `attribute_exists` says (null counts). */
const has = (item: object, attribute: string): boolean =>
  (item as Record<string, unknown>)[attribute] !== undefined;

const isText = (value: unknown): value is string => typeof value === 'string';

/** How a contact waits (the deferred mark tells a frequency-cap deferral from a retry), if it does. */
const waitingStatusOf = (contact: BillingContact | undefined): WaitingStatus | undefined => {
  if (contact?.status === 'pending') return 'pending';
  if (contact?.status === 'retry') return contact.deferred === true ? 'deferred' : 'retry';
  return undefined;
};
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** Descending by `key`, ties by nothing (keys are unique). */
const newestFirst =
  <T>(key: (item: T) => string) =>
  (a: T, b: T): number =>
    key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0;
const oldestFirst =
  <T>(key: (item: T) => string) =>
  (a: T, b: T): number =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

const MAX_POSITION = 9_999;
const QUEUE_SORT_KEY = /^\d{4}-\d{2}-\d{2}T[0-9:.]+Z#[^#]+$/;
/** `<instant>#~` is after every `<instant>#<id>`: a due listing includes what is due at `upTo` itself. */
const dueBy = (dueKey: string, upTo: string): boolean => dueKey <= `${upTo}#~`;

/** The items due by `upTo`, earliest first, up to `limit`: a query of the due index (gsi2). */
const dueFirst = <T>(items: Iterable<T>, dueKey: (item: T) => string, upTo: string, limit: number): T[] =>
  [...items]
    .filter((item) => dueBy(dueKey(item), upTo))
    .sort(oldestFirst(dueKey))
    .slice(0, limit);

const invalidPage = (field: string, message: string): DomainError =>
  new DomainError('VALIDATION_FAILED', {}, [{ field, message }]);

function checkPageRequest(page: PageRequest<string>, statuses: readonly string[]): void {
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > 100) {
    throw invalidPage('limit', 'Deve ser um inteiro entre 1 e 100');
  }
  if (page.status !== undefined && !statuses.includes(page.status)) {
    throw invalidPage('status', 'Status inválido');
  }
}

function checkLimit(method: string, limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`${method}: limit must be a positive integer`);
}

/** The first `limit` of `sorted` after the cursor, and the cursor of the next page. */
function pageOf<T>(
  sorted: T[],
  limit: number,
  cursorOf: (item: T) => object,
): { items: T[]; nextCursor: string | null } {
  const items = sorted.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: sorted.length > limit && last ? encodeCursor(cursorOf(last)) : null };
}

interface StoredTemplate {
  template: Omit<BillingTemplate, 'variations'> & {
    variations: Omit<BillingTemplate['variations'][number], 'timesUsed'>[];
  };
  uses: Record<string, number>;
}

interface Counter {
  value: number;
  /** Epoch seconds after which the count is forgotten. */
  ttl: number;
}

/** A tenant's figures of one UTC hour. */
interface HourCounts {
  hourStart: string;
  figures: Figures;
  /** Epoch seconds after which the hour is forgotten. */
  ttl: number;
}

interface Lease {
  owner?: string;
  leaseUntil?: string;
  holderQueueId?: string;
  lastSendAt?: string;
  lastHolderQueueId?: string;
  waiterQueueId?: string;
  waiterAt?: string;
}

type StoredQueue = BillingQueue & { publishGeneration?: number };

export interface InMemoryStoreOptions {
  /** Decides when a counter expires and stamps queue writes; defaults to the system clock. */
  clock?: Clock;
}

/** A Store in memory with the DynamoDB store's semantics (see the comment above). */
export function createInMemoryStore(options: InMemoryStoreOptions = {}): Store {
  const clock = options.clock ?? systemClock;
  const tenants = new Map<string, Tenant>();
  const apiKeys = new Map<string, ApiKey>();
  const templates = new Map<string, StoredTemplate>();
  const instances = new Map<string, WhatsAppInstance>();
  const calendars = new Map<string, BusinessCalendar>();
  const counters = new Map<string, Counter>();
  /** Per tenant, its hours' figures by the hour's ISO start. */
  const tenantFigures = new Map<string, Map<string, HourCounts>>();
  const campaigns = new Map<string, Campaign>();
  const queues = new Map<string, StoredQueue>();
  /** Due time of each open queue (the sweeper's due index). */
  const queueDue = new Map<string, string>();
  /** When each queue was created, by the store's clock (`listQueuesCreatedSince`). */
  const queueCreatedAt = new Map<string, number>();
  const contacts = new Map<string, Map<number, BillingContact>>();
  /** Messages as recorded: a send without its text (its contact's), a reply with it. */
  const messages = new Map<string, MessageRecord & { text?: string }>();
  const leases = new Map<string, Lease>();
  const optOuts = new Map<string, OptOut>();
  /** Each tenant's opt-out marker: present once it had an opt-out, with its stamp (`optOutStamp`). */
  const optOutMarkers = new Map<string, number>();
  const watches = new Map<string, DeliveryWatch>();
  const receiptRecounts = new Map<string, ReceiptRecount>();
  /** When a receipt (or server ack) was last written to each contact, by the store's clock (ms). */
  const receiptWrittenAt = new Map<string, number>();
  /** How many counter writes each queue has had: the version a receipt correction is conditional on. */
  const counterWrites = new Map<string, number>();
  const callbacks = new Map<string, StoredCallbackEvent>();
  const schedules = new Map<string, StoredSchedule>();
  const erasures = new Map<string, DebtorErasureRecord>();
  /** Each erasure under way, by tenant and phone digest: its progress, who holds it, until when. */
  const erasuresUnderWay = new Map<
    string,
    { progress: ErasureProgress; owner: string; heldUntil: string; expiresAt: string }
  >();
  /**
   * The TTL of stored objects (epoch seconds), as the table's `ttl` attribute: kept beside them so
   * entities come out without it. Objects replaced whole (a contact recorded sent) start without one.
   */
  const expiries = new WeakMap<object, number>();
  const setExpiry = (item: object, expiresAt: string | null): void => {
    if (expiresAt === null) expiries.delete(item);
    else expiries.set(item, ttlSeconds(expiresAt));
  };
  const expiredAt = (item: object, nowSeconds: number): boolean =>
    (expiries.get(item) ?? Number.POSITIVE_INFINITY) <= nowSeconds;
  /** Whether an item's TTL has passed: the reads that care leave it out (DynamoDB deletes it days later). */
  const hasExpired = (item: object): boolean => expiredAt(item, epochSeconds(clock.now()));

  const key = (...parts: (string | number)[]) => parts.join('\u0000');
  /** Stores a new callback event; one of a contact erased already is stored erased (as DynamoDB's store does). */
  const storeCallbackEvent = (event: StoredCallbackEvent, expiresAt: string): void => {
    const position = contactPositionOfEvent(event.queueId, event.eventId);
    const erased =
      position !== undefined &&
      holdsDebtorData(event.payload) &&
      isText(contacts.get(event.queueId)?.get(position)?.erasedAt);
    const stored = copy(erased ? { ...event, payload: erasedCallbackPayload(event.payload) } : event);
    setExpiry(stored, expiresAt);
    callbacks.set(key(event.queueId, event.eventId), stored);
  };
  const messageKey = (m: MessageRecord) => key(m.tenantId, m.instanceId, m.id);
  /** The phone's unexpired messages, newest first, as recorded. */
  const phoneMessages = (tenantId: string, phone: string, limit: number) => {
    checkLimit('listMessages', limit);
    return [...messages.values()]
      .filter((m) => m.tenantId === tenantId && m.phone === phone && !hasExpired(m))
      .sort(newestFirst((m) => `${m.at}#${m.id}`))
      .slice(0, limit);
  };
  const tenantWithDefaults = (tenant: Tenant): Tenant =>
    copy({ ...tenant, config: { ...DEFAULT_BILLING_CONFIG, ...tenant.config } });

  const templateOut = ({ template, uses }: StoredTemplate): BillingTemplate =>
    copy({
      ...template,
      variations: template.variations.map((v) => ({ ...v, timesUsed: uses[v.id] ?? 0 })),
    });

  const findApiKey = (tenantId: string, keyId: string): ApiKey | undefined =>
    [...apiKeys.values()].find((k) => k.tenantId === tenantId && k.id === keyId);

  const queueContacts = (queueId: string): Map<number, BillingContact> => {
    let found = contacts.get(queueId);
    if (!found) {
      found = new Map();
      contacts.set(queueId, found);
    }
    return found;
  };
  const contactsInOrder = (queueId: string): BillingContact[] =>
    [...(contacts.get(queueId)?.values() ?? [])].sort((a, b) => a.position - b.position);
  const contactAt = (queueId: string, position: number) => contacts.get(queueId)?.get(position);

  /** Each contact once, within the positions keys can hold; checked before anything is written. */
  const checkContacts = (list: readonly BillingContact[]): void => {
    const seen = new Set<string>();
    for (const contact of list) {
      const { queueId, position } = contact;
      if (!Number.isInteger(position) || position < 0 || position > MAX_POSITION) {
        throw new Error(`putContacts: position ${position} of ${contact.id} is outside 0..${MAX_POSITION}`);
      }
      const id = key(queueId, position);
      if (seen.has(id)) throw new Error(`putContacts: two contacts share the key ${queueId}/${position}`);
      seen.add(id);
    }
  };

  const isOpen = (queue: BillingQueue) => OPEN_STATUSES.has(queue.status);

  /** Adds `deltas` to the queue's counters (negative allowed) and marks it updated now. */
  const addQueueCounters = (queue: BillingQueue, deltas: Partial<Record<QueueCounter, number>>): void => {
    for (const counter of Object.keys(deltas)) {
      if (!QUEUE_COUNTERS.has(counter)) throw new Error(`Not a queue counter: ${counter}`);
    }
    queue.updatedAt = clock.now().toISOString();
    counterWrites.set(queue.id, (counterWrites.get(queue.id) ?? 0) + 1);
    const counts = queue as unknown as Record<string, number>;
    for (const [counter, by] of Object.entries(deltas)) {
      if (by !== undefined && by !== 0) counts[counter] = (counts[counter] ?? 0) + by;
    }
  };
  const setRunFields = (queue: StoredQueue, fields: QueueRunFields | undefined): void => {
    for (const [field, value] of Object.entries(withoutUndefined(fields ?? {}))) {
      if (!QUEUE_RUN_FIELDS.has(field)) throw new Error(`Not a queue run field: ${field}`);
      (queue as unknown as Record<string, unknown>)[field] = structuredClone(value);
    }
  };

  const leaseOf = (tenantId: string, instanceId: string): Lease => {
    const id = key(tenantId, instanceId);
    let lease = leases.get(id);
    if (!lease) {
      lease = {};
      leases.set(id, lease);
    }
    return lease;
  };

  const counterIncrement = (
    name: string,
    by: number,
    limit: number | null,
    expiresAt: Date,
  ): CounterResult => {
    const now = Math.floor(clock.now().getTime() / 1000);
    const ttl = Math.ceil(expiresAt.getTime() / 1000);
    const current = counters.get(name);
    const value = current && current.ttl > now ? current.value : 0;
    if (limit !== null && value + by > limit) return { ok: false, value };
    counters.set(name, { value: value + by, ttl });
    return { ok: true, value: value + by };
  };
  const counterValue = (name: string): number => {
    const current = counters.get(name);
    return current && current.ttl > Math.floor(clock.now().getTime() / 1000) ? current.value : 0;
  };

  const sendable = (contact: BillingContact, now: string) =>
    contact.status === 'pending' ||
    (contact.status === 'retry' && isText(contact.retryAt) && contact.retryAt <= now);

  const callbackSortKey = (event: StoredCallbackEvent) => `CALLBACK#${event.eventId}`;
  const callbackIndexKey = (event: StoredCallbackEvent) => `${event.occurredAt}#${event.eventId}`;
  const callbackCursor = (cursor: string, isValid: (sortKey: string) => boolean): string => {
    const { k } = decodeCursor(cursor);
    if (typeof k !== 'string' || k.length > 600 || !isValid(k)) throw invalidCursor();
    return k;
  };

  const toWatch = (watch: DeliveryWatch): DeliveryWatch => copy(watch);

  return {
    // Tenants
    async createTenant(tenant) {
      if (tenants.has(tenant.id)) return 'exists';
      tenants.set(tenant.id, copy(tenant));
      return 'created';
    },
    async getTenant(tenantId) {
      const tenant = tenants.get(tenantId);
      return tenant ? tenantWithDefaults(tenant) : undefined;
    },
    async listTenants() {
      return [...tenants.values()].sort(oldestFirst((t) => t.id)).map(tenantWithDefaults);
    },
    async updateTenantConfig(tenantId, patch, at) {
      const tenant = tenants.get(tenantId);
      if (!tenant) return undefined;
      tenant.config = { ...tenant.config, ...copy(patch) };
      tenant.updatedAt = at;
      return tenantWithDefaults(tenant);
    },
    async putTemplate(template) {
      const { variations, ...rest } = copy(template);
      templates.set(key(template.tenantId, template.type), {
        template: { ...rest, variations: variations.map(({ timesUsed: _timesUsed, ...v }) => v) },
        uses: Object.fromEntries(variations.map((v) => [v.id, v.timesUsed])),
      });
    },
    async getTemplate(tenantId, type) {
      const stored = templates.get(key(tenantId, type));
      return stored ? templateOut(stored) : undefined;
    },
    async listTemplates(tenantId) {
      return [...templates.values()]
        .filter((t) => t.template.tenantId === tenantId)
        .sort(oldestFirst((t) => t.template.type))
        .map(templateOut);
    },
    async addVariationUses(tenantId, type, counts) {
      const stored = templates.get(key(tenantId, type));
      if (!stored) return;
      for (const [variationId, n] of Object.entries(counts)) {
        if (n !== 0) stored.uses[variationId] = (stored.uses[variationId] ?? 0) + n;
      }
    },
    async putInstance(instance) {
      instances.set(key(instance.tenantId, instance.id), copy(instance));
    },
    async getInstance(tenantId, instanceId) {
      const instance = instances.get(key(tenantId, instanceId));
      return instance ? copy(instance) : undefined;
    },
    async deleteInstance(tenantId, instanceId) {
      return instances.delete(key(tenantId, instanceId));
    },
    async listInstances(tenantId) {
      return [...instances.values()]
        .filter((i) => i.tenantId === tenantId)
        .sort(oldestFirst((i) => i.id))
        .map(copy);
    },
    async setInstanceConnectionState(tenantId, instanceId, state) {
      const instance = instances.get(key(tenantId, instanceId));
      if (instance) instance.connectionState = state;
    },
    async putCalendar(tenantId, calendar) {
      calendars.set(tenantId, copy(calendar));
    },
    async getCalendar(tenantId) {
      const calendar = calendars.get(tenantId);
      return calendar ? copy(calendar) : undefined;
    },

    // API keys
    async createApiKey(apiKey) {
      if (findApiKey(apiKey.tenantId, apiKey.id) || apiKeys.has(apiKey.keyHash)) return 'exists';
      apiKeys.set(apiKey.keyHash, copy(apiKey));
      return 'created';
    },
    async getApiKeyByHash(keyHash) {
      const found = apiKeys.get(keyHash);
      return found ? copy(found) : undefined;
    },
    async listApiKeys(tenantId) {
      return [...apiKeys.values()]
        .filter((k) => k.tenantId === tenantId)
        .sort(newestFirst((k) => `${k.createdAt}#${k.id}`))
        .map(copy);
    },
    async revokeApiKey(tenantId, keyId) {
      const found = findApiKey(tenantId, keyId);
      if (!found) return false;
      found.isActive = false;
      return true;
    },
    async recordApiKeyUse(keyHash, at, ip) {
      const found = apiKeys.get(keyHash);
      if (!found) return;
      found.usageCount = (found.usageCount ?? 0) + 1;
      found.lastUsedAt = at;
      found.lastUsedIp = ip;
    },
    async setApiKeySigningSecrets(tenantId, keyId, secrets) {
      const found = findApiKey(tenantId, keyId);
      if (!found) return false;
      found.signingSecrets = [...secrets];
      return true;
    },
    async getApiKeyById(tenantId, keyId) {
      const found = findApiKey(tenantId, keyId);
      return found ? copy(found) : undefined;
    },

    // Counters (the names only tell the counters apart: no key syntax to keep here)
    async reserveDailyQuota(tenantId, day, count, limit, expiresAt) {
      return counterIncrement(key('daily', tenantId, day), count, limit, expiresAt);
    },
    async getDailyQuotaUsed(tenantId, day) {
      return counterValue(key('daily', tenantId, day));
    },
    async reserveInstanceSend(tenantId, instanceId, day, limit, expiresAt) {
      return counterIncrement(key('instance-day', tenantId, instanceId, day), 1, limit, expiresAt);
    },
    async getInstanceSends(tenantId, instanceId, day) {
      return counterValue(key('instance-day', tenantId, instanceId, day));
    },
    async countKeyRequest(keyId, budget, hourStart, limit, expiresAt) {
      return counterIncrement(
        key('rate', budget, keyId, hourStart.toISOString().slice(0, 13)),
        1,
        limit,
        expiresAt,
      );
    },

    async addTenantFigures(tenantId, hourStart, figures, expiresAt) {
      const hour = hourStartOf(hourStart).toISOString();
      let hours = tenantFigures.get(tenantId);
      if (!hours) {
        hours = new Map();
        tenantFigures.set(tenantId, hours);
      }
      // Like ADD on DynamoDB: an hour past its TTL but not yet deleted keeps counting from its value.
      const counts = hours.get(hour) ?? { hourStart: hour, figures: zeroFigures(), ttl: 0 };
      for (const figure of FIGURES) counts.figures[figure] += figures[figure] ?? 0;
      counts.ttl = ttlSeconds(expiresAt);
      hours.set(hour, counts);
    },
    async listTenantFigures(tenantId, from, to) {
      const now = epochSeconds(clock.now());
      return [...(tenantFigures.get(tenantId)?.values() ?? [])]
        .filter((h) => h.hourStart >= from.toISOString() && h.hourStart < to.toISOString() && h.ttl > now)
        .sort((a, b) => a.hourStart.localeCompare(b.hourStart))
        .map((h) => ({ hourStart: new Date(h.hourStart), ...copy(h.figures) }));
    },

    // Campaigns, queues, contacts
    async createCampaign(campaign) {
      const id = key(campaign.tenantId, campaign.externalId);
      const existing = campaigns.get(id);
      // An expired campaign is replaced: its external id is free again.
      if (existing && !hasExpired(existing)) return 'exists';
      // The metadata goes through JSON, as the DynamoDB store keeps it as text.
      campaigns.set(id, { ...copy(campaign), metadata: JSON.parse(JSON.stringify(campaign.metadata)) });
      return 'created';
    },
    async getCampaign(tenantId, externalId) {
      const campaign = campaigns.get(key(tenantId, externalId));
      return campaign && !hasExpired(campaign) ? copy(campaign) : undefined;
    },
    async expireCampaign(tenantId, externalId, queueId, expiresAt) {
      const campaign = campaigns.get(key(tenantId, externalId));
      if (campaign?.queueId === queueId) setExpiry(campaign, expiresAt);
    },
    async takeOverCampaign(tenantId, externalId, owner, now, leaseUntil) {
      const campaign = campaigns.get(key(tenantId, externalId));
      if (campaign?.state !== 'creating' || !isText(campaign.leaseUntil) || !(campaign.leaseUntil < now)) {
        return false;
      }
      campaign.owner = owner;
      campaign.leaseUntil = leaseUntil;
      return true;
    },
    async holdCampaign(tenantId, externalId, owner, leaseUntil) {
      const campaign = campaigns.get(key(tenantId, externalId));
      if (campaign?.state !== 'creating' || campaign.owner !== owner) return false;
      campaign.leaseUntil = leaseUntil;
      return true;
    },
    async markCampaignQuotaReserved(tenantId, externalId) {
      const campaign = campaigns.get(key(tenantId, externalId));
      if (campaign) campaign.quotaReserved = true;
    },
    async completeCampaign(tenantId, externalId, owner) {
      const campaign = campaigns.get(key(tenantId, externalId));
      if (campaign?.state !== 'creating' || campaign.owner !== owner) return false;
      campaign.state = 'created';
      return true;
    },
    async deleteCreatingCampaign(tenantId, externalId, owner) {
      const id = key(tenantId, externalId);
      const campaign = campaigns.get(id);
      if (campaign?.state !== 'creating' || campaign.owner !== owner) return false;
      campaigns.delete(id);
      return true;
    },
    async putFreshContacts(list) {
      checkContacts(list);
      for (const contact of list) queueContacts(contact.queueId).set(contact.position, copy(contact));
    },
    async deleteFreshContacts(queueId, positions) {
      for (const position of positions) contacts.get(queueId)?.delete(position);
    },
    async putContacts(list) {
      checkContacts(list);
      let created = 0;
      for (const contact of list) {
        const inQueue = queueContacts(contact.queueId);
        if (inQueue.has(contact.position)) continue;
        inQueue.set(contact.position, copy(contact));
        created += 1;
      }
      return created;
    },
    async createQueue(queue) {
      if (queues.has(queue.id)) return 'exists';
      queues.set(queue.id, copy(queue));
      queueCreatedAt.set(queue.id, clock.now().getTime());
      if (isOpen(queue)) queueDue.set(queue.id, queue.nextRunAt ?? queue.createdAt);
      return 'created';
    },
    async getQueue(queueId) {
      const queue = queues.get(queueId);
      return queue && !hasExpired(queue) ? copy(queue) : undefined;
    },
    async listQueuesCreatedSince(tenantId, since) {
      return [...queueCreatedAt]
        .filter(([, at]) => at >= since.getTime())
        .sort(([, a], [, b]) => a - b)
        .flatMap(([queueId]) => {
          const queue = queues.get(queueId);
          return queue && queue.tenantId === tenantId && !hasExpired(queue) ? [copy(queue)] : [];
        });
    },
    async listQueuesOldestFirst(tenantId, { after, createdBefore, limit }) {
      const sortKey = (q: Pick<BillingQueue, 'createdAt' | 'id'>) => `${q.createdAt}#${q.id}`;
      return [...queues.values()]
        .filter((q) => q.tenantId === tenantId && !hasExpired(q) && q.createdAt < createdBefore)
        .filter((q) => after === undefined || sortKey(q) > sortKey(after))
        .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1))
        .slice(0, limit)
        .map(copy);
    },
    async listQueues(tenantId, page): Promise<Page<BillingQueue>> {
      checkPageRequest(page, QUEUE_STATUSES);
      let after: string | undefined;
      if (page.cursor !== undefined) {
        const { a, ...rest } = decodeCursor(page.cursor);
        if (
          typeof a !== 'string' ||
          a.length > 400 ||
          !QUEUE_SORT_KEY.test(a) ||
          Object.keys(rest).length > 0
        ) {
          throw invalidCursor();
        }
        after = a;
      }
      const sortKey = (q: BillingQueue) => `${q.createdAt}#${q.id}`;
      const sorted = [...queues.values()]
        .filter((q) => q.tenantId === tenantId && (page.status === undefined || q.status === page.status))
        .filter((q) => !hasExpired(q))
        .filter((q) => after === undefined || sortKey(q) < after)
        .sort(newestFirst(sortKey));
      const { items, nextCursor } = pageOf(sorted, page.limit, (q) => ({ a: sortKey(q) }));
      return { items: items.map(copy), nextCursor };
    },
    async listContacts(queueId, page): Promise<Page<BillingContact>> {
      checkPageRequest(page, CONTACT_STATUSES);
      const { status } = page;
      // Batch order, filtered by status or not; a filtered cursor names its status (`<status>#<position>`).
      const sortKey = (c: BillingContact) => String(c.position).padStart(4, '0');
      let after: string | undefined;
      if (page.cursor !== undefined) {
        const { p, i, ...rest } = decodeCursor(page.cursor);
        const positionOk = typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= MAX_POSITION;
        const indexKeyOk =
          status === undefined
            ? i === undefined
            : typeof i === 'string' && i.length <= 400 && i.startsWith(`${status}#`);
        if (!positionOk || !indexKeyOk || Object.keys(rest).length > 0) throw invalidCursor();
        after = String(p).padStart(4, '0');
      }
      const sorted = contactsInOrder(queueId)
        .filter((c) => status === undefined || c.status === status)
        .filter((c) => after === undefined || sortKey(c) > after)
        .sort(oldestFirst(sortKey));
      const { items, nextCursor } = pageOf(sorted, page.limit, (c) =>
        status === undefined ? { p: c.position } : { p: c.position, i: `${status}#${sortKey(c)}` },
      );
      return { items: items.map(copy), nextCursor };
    },
    async getContact(queueId, position) {
      const contact = contactAt(queueId, position);
      return contact ? copy(contact) : undefined;
    },

    // Sending
    async listSendableContacts(queueId, now, limit, afterPosition) {
      checkLimit('listSendableContacts', limit);
      return contactsInOrder(queueId)
        .filter((c) => (afterPosition === undefined || c.position > afterPosition) && sendable(c, now))
        .slice(0, limit)
        .map(copy);
    },
    async claimContact(queueId, position, now) {
      const contact = contactAt(queueId, position);
      if (!contact || !sendable(contact, now)) return undefined;
      Object.assign(contact, {
        status: 'sending',
        attempts: (contact.attempts ?? 0) + 1,
        updatedAt: now,
        claimedAt: now,
      });
      delete contact.retryAt;
      return copy(contact);
    },
    async recordSent(claimed, result, message, expiresAt) {
      const current = contactAt(claimed.queueId, claimed.position);
      const recorded =
        current?.status === 'sending' &&
        has(current, 'claimedAt') &&
        current.claimedAt === (claimed.claimedAt ?? null);
      if (recorded) {
        const sent = copy(sentContact(claimed, result));
        setExpiry(sent, expiresAt);
        queueContacts(claimed.queueId).set(claimed.position, sent);
      }
      const stored = copy(message);
      setExpiry(stored, expiresAt);
      messages.set(messageKey(message), stored);
      return recorded;
    },
    async finishContact(queueId, position, result, expiresAt, claimedAt) {
      const contact = contactAt(queueId, position);
      if (contact?.status !== 'sending') return false;
      if (claimedAt !== undefined && contact.claimedAt !== claimedAt) return false;
      setExpiry(contact, expiresAt);
      contact.status = result.status;
      contact.updatedAt = result.at;
      delete contact.deferred;
      switch (result.status) {
        case 'sent':
          Object.assign(contact, {
            providerMessageId: result.providerMessageId,
            sentAt: result.at,
            lastError: null,
            lastErrorAt: null,
          });
          break;
        case 'retry':
          Object.assign(contact, {
            lastError: result.error,
            lastErrorAt: result.at,
            retryAt: result.retryAt,
          });
          break;
        case 'failed':
        case 'unknown':
          Object.assign(contact, {
            lastError: result.error,
            lastErrorAt: result.at,
            lastErrorCode: result.code,
          });
          break;
        case 'pending':
        case 'skipped_opt_out':
          contact.attempts = (contact.attempts ?? 0) - 1;
          break;
      }
      return true;
    },
    async skipOptedOutContact(queueId, position, at, expiresAt) {
      const contact = contactAt(queueId, position);
      const previous = waitingStatusOf(contact);
      if (!contact || !previous) return undefined;
      Object.assign(contact, { status: 'skipped_opt_out', updatedAt: at });
      setExpiry(contact, expiresAt);
      delete contact.retryAt;
      delete contact.deferred;
      return previous;
    },
    async deferContact(queueId, position, until, at) {
      const contact = contactAt(queueId, position);
      const previous = waitingStatusOf(contact);
      if (!contact || !previous) return undefined;
      Object.assign(contact, { status: 'retry', retryAt: until, deferred: true, updatedAt: at });
      return previous;
    },
    async listStuckContacts(queueId) {
      return contactsInOrder(queueId)
        .filter((c) => c.status === 'sending')
        .map(copy);
    },
    async summarizeContacts(queueId) {
      const byStatus: Partial<Record<ContactStatus, number>> = {};
      let deferred = 0;
      let earliestRetryAt: string | null = null;
      const sending: BillingContact[] = [];
      const sent: SentContact[] = [];
      const failed: FailedContact[] = [];
      const cancelled: CancelledOnItsOwn[] = [];
      for (const contact of contactsInOrder(queueId)) {
        const { status } = contact;
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        if (status === 'retry' && contact.deferred === true) deferred += 1;
        if (
          status === 'retry' &&
          isText(contact.retryAt) &&
          (earliestRetryAt === null || contact.retryAt < earliestRetryAt)
        ) {
          earliestRetryAt = contact.retryAt;
        }
        if (status === 'sending') sending.push(copy(contact));
        const { position, sentAt, providerMessageId } = contact;
        if (isText(providerMessageId) && isText(sentAt)) sent.push({ position, sentAt, providerMessageId });
        const { lastErrorCode: code, lastErrorAt: failedAt, lastError: error } = contact;
        if ((status === 'failed' || status === 'unknown') && code && isText(failedAt))
          failed.push({ position, status, failedAt, code, error });
        if (status === 'cancelled' && contact.cancelReason)
          cancelled.push({ position, reason: contact.cancelReason, cancelledAt: contact.updatedAt });
      }
      return { byStatus, deferred, earliestRetryAt, sending, sent, failed, cancelled };
    },
    async cancelUnsentContacts(queueId, at, expiresAt) {
      let cancelled = 0;
      let fromRetry = 0;
      let fromDeferred = 0;
      for (const contact of contactsInOrder(queueId)) {
        const previous = waitingStatusOf(contact);
        if (!previous) continue;
        if (previous !== 'pending') fromRetry += 1;
        if (previous === 'deferred') fromDeferred += 1;
        cancelled += 1;
        Object.assign(contact, { status: 'cancelled', updatedAt: at });
        delete contact.retryAt;
        delete contact.deferred;
        setExpiry(contact, expiresAt);
      }
      return { cancelled, fromRetry, fromDeferred };
    },
    async transitionQueue(queueId, from, to, fields, expiresAt) {
      const queue = queues.get(queueId);
      if (!queue || !from.includes(queue.status)) return undefined;
      const now = clock.now().toISOString();
      queue.status = to;
      queue.updatedAt = now;
      setRunFields(queue, fields);
      if (expiresAt !== undefined) setExpiry(queue, expiresAt);
      if (OPEN_STATUSES.has(to)) queueDue.set(queueId, fields?.nextRunAt ?? now);
      else queueDue.delete(queueId);
      return copy(queue);
    },
    async addToQueueCounters(queueId, deltas) {
      // Not through updateQueueProgress: a test that watches the pump's progress writes sees only them.
      const queue = queues.get(queueId);
      if (!queue) return false;
      addQueueCounters(queue, deltas);
      return true;
    },

    async updateQueueProgress(queueId, deltas, fields) {
      const queue = queues.get(queueId);
      if (!queue) return undefined;
      const now = clock.now().toISOString();
      addQueueCounters(queue, deltas);
      setRunFields(queue, fields);
      // Only an open queue is in the due index; a paused or finished one stays out of it.
      if (fields?.nextRunAt !== undefined && queueDue.has(queueId))
        queueDue.set(queueId, fields.nextRunAt ?? now);
      return copy(queue);
    },
    async getQueueStatus(queueId) {
      const queue = queues.get(queueId);
      return queue && !hasExpired(queue) ? queue.status : undefined;
    },
    async nextPublishGeneration(queueId) {
      const queue = queues.get(queueId);
      if (!queue) throw new Error(`nextPublishGeneration: queue ${queueId} does not exist`);
      queue.publishGeneration = (queue.publishGeneration ?? 0) + 1;
      return queue.publishGeneration;
    },
    async acquireInstanceLease(tenantId, instanceId, { owner, queueId }, now, until): Promise<InstanceLease> {
      const lease = leaseOf(tenantId, instanceId);
      const acquired =
        lease.owner === undefined ||
        (isText(lease.leaseUntil) && lease.leaseUntil < now) ||
        lease.owner === owner;
      if (acquired) Object.assign(lease, { owner, leaseUntil: until, holderQueueId: queueId });
      const waiterQueueId = text(lease.waiterQueueId);
      const waiterAt = text(lease.waiterAt);
      const heldUntil = text(lease.leaseUntil);
      return {
        acquired,
        heldBy: !acquired && heldUntil ? { queueId: text(lease.holderQueueId), until: heldUntil } : null,
        lastSendAt: text(lease.lastSendAt),
        lastHolderQueueId: text(lease.lastHolderQueueId),
        waiter: waiterQueueId && waiterAt ? { queueId: waiterQueueId, at: waiterAt } : null,
      };
    },
    async renewInstanceLease(tenantId, instanceId, owner, until, lastSendAt) {
      const lease = leases.get(key(tenantId, instanceId));
      if (!lease || lease.owner !== owner) return false;
      lease.leaseUntil = until;
      if (lastSendAt !== null) lease.lastSendAt = lastSendAt;
      return true;
    },
    async releaseInstanceLease(tenantId, instanceId, owner, lastSendAt, queueId) {
      const lease = leases.get(key(tenantId, instanceId));
      if (!lease || lease.owner !== owner) return;
      delete lease.owner;
      delete lease.leaseUntil;
      delete lease.holderQueueId;
      lease.lastHolderQueueId = queueId;
      if (lastSendAt !== null) lease.lastSendAt = lastSendAt;
    },
    async lastPossibleSendAt(tenantId, instanceId) {
      const lease = leases.get(key(tenantId, instanceId));
      if (!lease) return null;
      const held = lease.owner !== undefined ? text(lease.leaseUntil) : null;
      const last = text(lease.lastSendAt);
      return held !== null && (last === null || held > last) ? held : last;
    },
    async noteInstanceWaiter(tenantId, instanceId, queueId, at) {
      if (at !== null) {
        Object.assign(leaseOf(tenantId, instanceId), { waiterQueueId: queueId, waiterAt: at });
        return;
      }
      const lease = leases.get(key(tenantId, instanceId));
      if (lease?.waiterQueueId !== queueId) return;
      delete lease.waiterQueueId;
      delete lease.waiterAt;
    },
    async listDueQueues(upTo, limit) {
      return dueFirst(queueDue.keys(), (id) => `${queueDue.get(id)}#${id}`, upTo, limit).flatMap((id) => {
        const queue = queues.get(id);
        return queue ? [copy(queue)] : [];
      });
    },

    // Conversations
    async recordMessage(message, expiresAt) {
      // As the conditional put: an item still there, even expired, is not replaced.
      if (messages.has(messageKey(message))) return false;
      const stored = copy(message);
      setExpiry(stored, expiresAt);
      messages.set(messageKey(message), stored);
      return true;
    },
    async listMessages(tenantId, phone, limit) {
      // A send's text is its contact's rendered message, as the DynamoDB store reads it.
      return phoneMessages(tenantId, phone, limit).map((m) => ({
        ...copy(m),
        text:
          m.text ??
          (m.queueId !== null && m.contactPosition !== null
            ? (contactAt(m.queueId, m.contactPosition)?.renderedMessage ?? '')
            : ''),
      }));
    },
    async listMessageRecords(tenantId, phone, limit) {
      return phoneMessages(tenantId, phone, limit).map(({ text: _, ...record }) => copy(record));
    },
    async listRemindersSince(tenantId, phone, since, templateTypes) {
      return [...messages.values()]
        .filter(
          (m) =>
            m.tenantId === tenantId &&
            m.phone === phone &&
            m.direction === 'outbound' &&
            m.at >= since &&
            m.templateType !== null &&
            templateTypes.includes(m.templateType) &&
            !hasExpired(m),
        )
        .sort(newestFirst((m) => `${m.at}#${m.id}`))
        .map((m) => m.at);
    },
    async getMessage(tenantId, instanceId, messageId) {
      const message = messages.get(key(tenantId, instanceId, messageId));
      if (!message || hasExpired(message)) return undefined;
      const { text: _, ...record } = copy(message);
      return record;
    },

    // Feedback
    async applyReceipt(queueId, position, receipt, at, error, send) {
      const contact = contactAt(queueId, position);
      if (!contact || !shouldApplyReceipt(contact.status, receipt)) {
        return { applied: false, current: contact?.status };
      }
      const previous = contact.status;
      const wasStalled = isStalled(contact);
      const { phone, name, invoiceNumber, providerMessageId } = contact;
      const found = {
        phone,
        name,
        invoiceNumber: invoiceNumber ?? null,
        providerMessageId: providerMessageId ?? null,
      };
      Object.assign(contact, { status: receipt, updatedAt: at });
      receiptWrittenAt.set(key(queueId, position), clock.now().getTime());
      if (send) {
        contact.providerMessageId ??= send.providerMessageId;
        contact.sentAt ??= send.sentAt;
      }
      if (receipt === 'delivered') contact.deliveredAt = at;
      if (receipt === 'read') contact.readAt = at;
      if (receipt === 'failed') {
        contact.lastError = error ?? 'falha de entrega informada pelo WhatsApp';
        contact.lastErrorAt = at;
      } else {
        contact.lastError = null;
        contact.lastErrorAt = null;
        delete contact.lastErrorCode;
      }
      return { applied: true, previous, wasStalled, contact: found };
    },
    async markContactReplied(queueId, position, at) {
      const contact = contactAt(queueId, position);
      if (!contact || has(contact, 'repliedAt')) return false;
      contact.repliedAt = at;
      return true;
    },
    async putOptOut(optOut) {
      const id = key(optOut.tenantId, optOut.phone);
      const created = !optOuts.has(id);
      if (created) {
        const { tenantId, phone, source, reason, at } = optOut;
        optOuts.set(id, copy({ tenantId, phone, source, reason, at }));
      }
      // As the table does: the stamp moves after the item is there, on a repeat too.
      optOutMarkers.set(optOut.tenantId, (optOutMarkers.get(optOut.tenantId) ?? 1) + 1);
      return created ? 'created' : 'exists';
    },
    async getOptOut(tenantId, phone) {
      const optOut = optOuts.get(key(tenantId, phone));
      return optOut ? copy(optOut) : undefined;
    },
    async deleteOptOut(tenantId, phone) {
      return optOuts.delete(key(tenantId, phone));
    },
    async hasOptOuts(tenantId) {
      return optOutMarkers.has(tenantId);
    },
    async optOutStamp(tenantId) {
      return optOutMarkers.get(tenantId) ?? 0;
    },
    async findOptedOut(tenantId, phones) {
      return new Set(phones.filter((phone) => optOuts.has(key(tenantId, phone))));
    },
    async listOptOuts(tenantId, page) {
      let after: string | undefined;
      if (page.cursor !== undefined) {
        const parsed = decodeCursor(page.cursor);
        const { o } = parsed;
        if (typeof o !== 'string' || Object.keys(parsed).length !== 1 || !o.includes('#'))
          throw invalidCursor();
        after = o;
      }
      const sortKey = (o: OptOut) => `${o.at}#${o.phone}`;
      const sorted = [...optOuts.values()]
        .filter((o) => o.tenantId === tenantId && (after === undefined || sortKey(o) < after))
        .sort(newestFirst(sortKey));
      const { items, nextCursor } = pageOf(sorted, page.limit, (o) => ({ o: sortKey(o) }));
      return { items: items.map(copy), nextCursor };
    },

    // Delivery watch
    async armDeliveryWatch(watch, token) {
      const existing = watches.get(watch.queueId);
      if (existing) {
        existing.token = token;
        return toWatch(existing);
      }
      const { queueId, tenantId, templateType, checkAt } = watch;
      const armed = { queueId, tenantId, templateType, checkAt, fromPosition: 0, token };
      watches.set(queueId, armed);
      return toWatch(armed);
    },
    async listDueDeliveryWatches(now, limit) {
      return dueFirst(watches.values(), (w) => `${w.checkAt}#${w.queueId}`, now, limit).map(toWatch);
    },
    async getDeliveryWatch(queueId) {
      const watch = watches.get(queueId);
      return watch ? toWatch(watch) : undefined;
    },
    async rescheduleDeliveryWatch(queueId, checkAt, fromPosition) {
      const watch = watches.get(queueId);
      if (!watch) return false;
      Object.assign(watch, { checkAt, fromPosition });
      return true;
    },
    async removeDeliveryWatch(queueId, token) {
      if (watches.get(queueId)?.token !== token) return false;
      watches.delete(queueId);
      return true;
    },
    async listContactDeliveries(queueId, fromPosition): Promise<ContactDelivery[]> {
      if (fromPosition > MAX_POSITION) return [];
      return contactsInOrder(queueId)
        .filter((c) => c.position >= Math.max(0, fromPosition))
        .map((c) => ({
          position: c.position,
          status: c.status,
          sentAt: text(c.sentAt),
          serverAckAt: text(c.serverAckAt),
          stalledAt: text(c.stalledAt),
          providerMessageId: text(c.providerMessageId),
        }));
    },
    async markContactStalled(queueId, position, at, sentBefore) {
      const contact = contactAt(queueId, position);
      if (
        contact?.status !== 'sent' ||
        !isText(contact.sentAt) ||
        !(contact.sentAt <= sentBefore) ||
        has(contact, 'serverAckAt') ||
        has(contact, 'stalledAt')
      ) {
        return false;
      }
      contact.stalledAt = at;
      return true;
    },
    async recordServerAck(queueId, position, at) {
      const contact = contactAt(queueId, position);
      if (contact?.status !== 'sent' || has(contact, 'serverAckAt')) {
        return { recorded: false, current: contact?.status };
      }
      const wasStalled = Boolean(contact.stalledAt);
      contact.serverAckAt = at;
      receiptWrittenAt.set(key(queueId, position), clock.now().getTime());
      return { recorded: true, wasStalled };
    },

    // Receipt recount
    async flagReceiptRecount(flag, token) {
      const existing = receiptRecounts.get(flag.queueId);
      if (existing) existing.token = token;
      else receiptRecounts.set(flag.queueId, { ...flag, token });
    },
    async listDueReceiptRecounts(now, limit) {
      return dueFirst(receiptRecounts.values(), (r) => `${r.checkAt}#${r.queueId}`, now, limit).map(copy);
    },
    async rescheduleReceiptRecount(queueId, checkAt) {
      const flag = receiptRecounts.get(queueId);
      if (!flag) return false;
      flag.checkAt = checkAt;
      return true;
    },
    async removeReceiptRecount(queueId, token) {
      if (receiptRecounts.get(queueId)?.token !== token) return false;
      receiptRecounts.delete(queueId);
      return true;
    },
    async tallyReceipts(queueId) {
      const queue = queues.get(queueId);
      if (!queue || hasExpired(queue)) return undefined;
      const inOrder = contactsInOrder(queueId);
      const writes = inOrder.flatMap((c) => [
        ...[receiptWrittenAt.get(key(queueId, c.position))].filter((at) => at !== undefined),
        ...(isText(c.stalledAt) ? [Date.parse(c.stalledAt)] : []),
      ]);
      const writeCount = counterWrites.get(queueId);
      return {
        stored: receiptCountsOfQueue(queue),
        counted: receiptCountsOfContacts(inOrder),
        lastReceiptWriteAt: writes.length > 0 ? new Date(Math.max(...writes)).toISOString() : null,
        countersVersion: writeCount === undefined ? null : String(writeCount),
        queue: { status: queue.status, totalContacts: queue.totalContacts },
        contactsCounted: inOrder.length,
      };
    },
    async correctReceiptCounters(queueId, deltas, countersVersion) {
      const queue = queues.get(queueId);
      const writeCount = counterWrites.get(queueId);
      if (!queue || (writeCount === undefined ? null : String(writeCount)) !== countersVersion) return false;
      addQueueCounters(queue, deltas);
      return true;
    },

    // Callbacks
    async putCallbackEvent(event, expiresAt) {
      const id = key(event.queueId, event.eventId);
      if (callbacks.has(id)) return 'exists';
      storeCallbackEvent(event, expiresAt);
      return 'created';
    },
    async getCallbackEvent(queueId, eventId) {
      const event = callbacks.get(key(queueId, eventId));
      return event ? copy(event) : undefined;
    },
    async makeCallbackDue(queueId, eventId, at) {
      const delivery = callbacks.get(key(queueId, eventId))?.delivery;
      if (delivery?.status === 'pending' && delivery.attempts === 0) delivery.nextAttemptAt = at;
    },
    async listDueCallbacks(now, limit) {
      const waiting = [...callbacks.values()].filter(
        (e) => e.delivery.status === 'pending' && isText(e.delivery.nextAttemptAt),
      );
      return dueFirst(waiting, (e) => `${e.delivery.nextAttemptAt}#${e.eventId}`, now, limit).map(copy);
    },
    async claimCallback(queueId, eventId, now, leaseUntil, storeIfMissing) {
      const id = key(queueId, eventId);
      if (!callbacks.has(id) && storeIfMissing)
        storeCallbackEvent(storeIfMissing.event, storeIfMissing.expiresAt);
      const event = callbacks.get(id);
      const { delivery } = event ?? {};
      if (!event || !delivery || delivery.status !== 'pending') return undefined;
      // Never attempted: its first attempt is whoever's comes first (null: announced, in no due
      // index; a later time: announced with a safety net). Else due once its next attempt is here.
      if (delivery.attempts > 0 && isText(delivery.nextAttemptAt) && !(delivery.nextAttemptAt <= now))
        return undefined;
      delivery.nextAttemptAt = leaseUntil;
      delivery.attempts += 1;
      return copy(event);
    },
    async finishCallbackAttempt(queueId, eventId, attempt, result) {
      const delivery = callbacks.get(key(queueId, eventId))?.delivery;
      if (delivery?.status !== 'pending' || delivery.attempts !== attempt) return false;
      delivery.lastAttemptAt = result.at;
      if (result.status === 'pending') {
        Object.assign(delivery, { nextAttemptAt: result.nextAttemptAt, lastError: result.error });
      } else if (result.status === 'delivered') {
        Object.assign(delivery, {
          status: 'delivered',
          nextAttemptAt: null,
          lastError: null,
          deliveredAt: result.at,
        });
      } else {
        Object.assign(delivery, { status: 'dead', nextAttemptAt: null, lastError: result.error });
      }
      return true;
    },
    async listCallbackEventIds(queueId) {
      return [...callbacks.values()]
        .filter((e) => e.queueId === queueId)
        .map((e) => e.eventId)
        .sort();
    },
    async listCallbackEvents(tenantId, query) {
      const { queueId, since, limit, cursor } = query;
      if (!Number.isInteger(limit) || limit < 1)
        throw new Error('listCallbackEvents: limit must be positive');
      const all = [...callbacks.values()].filter((e) => e.tenantId === tenantId && !hasExpired(e));
      let sorted: StoredCallbackEvent[];
      let sortKey: (event: StoredCallbackEvent) => string;
      if (queueId) {
        const prefix = `CALLBACK#${queueId}:`;
        const after = cursor ? callbackCursor(cursor, (k) => k.startsWith(prefix)) : undefined;
        sortKey = callbackSortKey;
        sorted = all
          .filter((e) => e.queueId === queueId && sortKey(e).startsWith(prefix))
          .filter((e) => (after === undefined || sortKey(e) > after) && (!since || e.occurredAt >= since))
          .sort(oldestFirst(sortKey));
      } else {
        const after = cursor ? callbackCursor(cursor, (k) => /^\d{4}-\d{2}-\d{2}T/.test(k)) : undefined;
        sortKey = callbackIndexKey;
        // After a cursor the listing resumes from it (it is past `since` already).
        sorted = all
          .filter((e) => (after !== undefined ? sortKey(e) > after : !since || sortKey(e) >= since))
          .sort(oldestFirst(sortKey));
      }
      const { items, nextCursor } = pageOf(sorted, limit, (e) => ({ k: sortKey(e) }));
      return { items: items.map(copy), nextCursor };
    },

    // Debtors (payments, erasure)
    // Reads every queue: with `invoices` it may, and here does not, leave a queue unread.
    async listContactIdentities(queues) {
      const identitiesOf = (queueId: string) =>
        contactsInOrder(queueId).map(
          ({ position, status, phone, invoiceNumber, updatedAt, cancelReason, providerMessageId }) => ({
            position,
            status,
            phone,
            invoiceNumber: invoiceNumber ?? null,
            updatedAt,
            cancelReason: cancelReason ?? null,
            providerMessageId: providerMessageId ?? null,
          }),
        );
      return new Map(queues.map((queue) => [queue.id, identitiesOf(queue.id)]));
    },
    async cancelUnsentContact(queueId, position, at, expiresAt, reason) {
      const contact = contactAt(queueId, position);
      const previous = waitingStatusOf(contact);
      if (!contact || !previous) return undefined;
      Object.assign(contact, { status: 'cancelled', updatedAt: at, cancelReason: reason });
      delete contact.retryAt;
      delete contact.deferred;
      setExpiry(contact, expiresAt);
      return previous;
    },
    async eraseContact(queueId, position, at, expiresAt) {
      const contact = contactAt(queueId, position);
      if (!contact) return { outcome: 'missing' };
      if (contact.status === 'sending') return { outcome: 'in_flight' };
      const previous = waitingStatusOf(contact);
      Object.assign(contact, copy(erasedContactFields(contact, at)));
      if (!previous) return { outcome: 'erased', cancelledFrom: null };
      Object.assign(contact, { status: 'cancelled', cancelReason: 'erased', updatedAt: at });
      delete contact.retryAt;
      delete contact.deferred;
      setExpiry(contact, expiresAt);
      return { outcome: 'erased', cancelledFrom: previous };
    },
    async eraseContactEvents(queueId, position) {
      let changed = 0;
      for (const event of callbacks.values()) {
        if (event.queueId !== queueId || !event.eventId.startsWith(`${queueId}:${position}:`)) continue;
        const erased = erasedCallbackPayload(event.payload);
        if (JSON.stringify(erased) === JSON.stringify(event.payload)) continue;
        event.payload = copy(erased);
        changed += 1;
      }
      return changed;
    },
    async deleteMessages(tenantId, phones, known) {
      const byKey = new Set(known.map(({ instanceId, messageId }) => key(tenantId, instanceId, messageId)));
      let deleted = 0;
      for (const [id, message] of messages) {
        if (message.tenantId !== tenantId) continue;
        if (!phones.includes(message.phone) && !byKey.has(messageKey(message))) continue;
        messages.delete(id);
        deleted += 1;
      }
      return deleted;
    },
    async listCampaignRejections(tenantId, externalIds) {
      const found = externalIds.flatMap((externalId) => {
        const campaign = campaigns.get(key(tenantId, externalId));
        return campaign ? [[externalId, copy(campaign).rejected] as const] : [];
      });
      return new Map(found);
    },
    async eraseCampaignRejections(tenantId, externalId, indexes) {
      const campaign = campaigns.get(key(tenantId, externalId));
      if (!campaign) return false;
      for (const index of indexes) {
        const rejection = campaign.rejected[index];
        if (rejection) rejection.telefone = ERASED_MARKER;
      }
      return true;
    },
    async ensureErasureSalt(tenantId, candidate) {
      const tenant = tenants.get(tenantId);
      if (!tenant) return undefined;
      tenant.erasureSalt ??= candidate;
      return tenant.erasureSalt;
    },
    async recordDebtorErasure(record) {
      erasures.set(key(record.tenantId, record.at, record.id), copy(record));
    },
    async takeErasureProgress(fresh, owner, now, holdUntil, expiresAt) {
      const at = key(fresh.tenantId, fresh.phoneDigest);
      const stored = erasuresUnderWay.get(at);
      const live = stored && ttlSeconds(stored.expiresAt) > epochSeconds(now) ? stored : undefined;
      if (live && live.heldUntil > now) return { taken: false, progress: copy(live.progress) };
      const progress = live ? live.progress : fresh;
      erasuresUnderWay.set(at, {
        progress: copy(progress),
        owner,
        heldUntil: holdUntil,
        expiresAt: live ? live.expiresAt : expiresAt,
      });
      return { taken: true, progress: copy(progress) };
    },
    async saveErasureProgress(progress, owner, now) {
      const stored = erasuresUnderWay.get(key(progress.tenantId, progress.phoneDigest));
      if (stored?.owner !== owner) return false;
      stored.progress = copy(progress);
      stored.heldUntil = now;
      return true;
    },
    async deleteErasureProgress(tenantId, phoneDigest, owner) {
      const at = key(tenantId, phoneDigest);
      if (erasuresUnderWay.get(at)?.owner === owner) erasuresUnderWay.delete(at);
    },
    async listDebtorErasures(tenantId, page) {
      let after: string | undefined;
      if (page.cursor !== undefined) {
        const parsed = decodeCursor(page.cursor);
        const { e } = parsed;
        if (
          typeof e !== 'string' ||
          Object.keys(parsed).length !== 1 ||
          !e.startsWith('ERASURE#') ||
          e.length > 200
        )
          throw invalidCursor();
        after = e;
      }
      const sortKey = (r: DebtorErasureRecord) => `ERASURE#${r.at}#${r.id}`;
      const sorted = [...erasures.values()]
        .filter((r) => r.tenantId === tenantId && (after === undefined || sortKey(r) < after))
        .sort(newestFirst(sortKey));
      const { items, nextCursor } = pageOf(sorted, page.limit, (r) => ({ e: sortKey(r) }));
      return { items: items.map(copy), nextCursor };
    },

    // Schedules
    async createSchedule(schedule) {
      if (schedules.has(schedule.name)) return 'exists';
      schedules.set(schedule.name, copy(schedule));
      return 'created';
    },
    async listDueSchedules(now, limit) {
      return dueFirst(schedules.values(), (s) => `${s.dueAt}#${s.name}`, now, limit).map(copy);
    },
    async claimSchedule(name) {
      const schedule = schedules.get(name);
      if (!schedule) return undefined;
      schedules.delete(name);
      return copy(schedule);
    },

    // Retention
    async deleteExpired(now, page) {
      checkLimit('deleteExpired', page.limit);
      const nowSeconds = epochSeconds(now);
      // Every stored item that can carry a TTL, with how to delete it.
      const expired: (() => void)[] = [];
      const collect = <K, V extends object>(
        map: Map<K, V>,
        ttlOf = (item: V) => expiredAt(item, nowSeconds),
      ) => {
        for (const [id, item] of map) if (ttlOf(item)) expired.push(() => map.delete(id));
      };
      collect(campaigns);
      collect(queues);
      for (const inQueue of contacts.values()) collect(inQueue);
      collect(messages);
      collect(callbacks);
      collect(counters, (counter) => counter.ttl <= nowSeconds);
      // One page at most `limit` deletions; the next page picks up what is left.
      for (const remove of expired.slice(0, page.limit)) remove();
      for (const id of [...queueDue.keys()]) if (!queues.has(id)) queueDue.delete(id);
      return {
        deleted: Math.min(expired.length, page.limit),
        nextCursor: expired.length > page.limit ? encodeCursor({ more: true }) : null,
      };
    },
  };
}
