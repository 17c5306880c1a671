import { randomUUID } from 'node:crypto';
import { DEFAULT_BILLING_CONFIG } from '../domain/billing-config.ts';
import { planDeliveryCheck } from '../domain/delivery-stall.ts';
import type { TemplateType } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { BillingEvents } from '../ports/billing-events.ts';
import type { Clock } from '../ports/clock.ts';
import type { Metrics } from '../ports/metrics.ts';
import type {
  CampaignStore,
  CounterStore,
  DeliveryWatchStore,
  ReceiptRecountStore,
  SendingStore,
  TenantStore,
} from '../ports/store.ts';
import { flagReceiptRecount } from './receipt-recount.ts';
import { countTenantFigures } from './tenant-figures.ts';

/**
 * Stalled deliveries (Evolution's 201 `PENDING` that never reaches the phone), found at a cost that
 * follows messages, not time:
 * - the pump arms its queue's delivery watch after a send (one small item with a due-index entry), at
 *   most once per queue per process until the watch is nearly due, so the sender pays about one write
 *   per queue per timeout period, not one per message;
 * - the sweeper checks due watches: one consistent Query of the queue's contacts (from the first one
 *   not settled for good), a conditional write per contact found stalled (counted once however many
 *   sweepers run), then the watch moves to the next deadline, or goes away when nothing sent awaits
 *   an acknowledgement (the next send arms it again).
 */

/** Watches checked per sweep (the rest wait for the next one, a minute later). */
const PAGE = 100;
/** Checking stops after this long, leaving the sweeper (50 s timeout in AWS) room; the rest stay due. */
const CHECK_BUDGET_MS = 20_000;
/**
 * A send skips arming only while the watch it saw is due later than this: whatever a check at that
 * due time reads includes this send, with this much room for clock differences between processes.
 */
const ARM_MARGIN_MS = 60_000;
/** Queues remembered per process by the arming side. */
const CACHE_LIMIT = 1_000;

interface ArmedQueue {
  tenantId: string;
  templateType: TemplateType;
  timeoutMs: number;
  /** When the watch was due as last seen (ms); 0 until armed by this process. */
  checkAt: number;
}

const timeoutMsOf = (minutes: number | undefined): number =>
  (minutes ?? DEFAULT_BILLING_CONFIG.deliveryTimeoutMinutes) * 60_000;

export interface ArmDeliveryWatchDeps {
  store: Pick<CampaignStore, 'getQueue'> &
    Pick<TenantStore, 'getTenant'> &
    Pick<DeliveryWatchStore, 'armDeliveryWatch'>;
  clock: Clock;
}

/** Where watching starts: the pump arms its queue's watch after each send the gateway accepted. */
export interface DeliveryWatchArmer {
  /**
   * `queueId` sent a message at `sentAt` (ISO), already recorded as sent, so a check that reads the
   * contacts sees it. Also called when a queue completes: a pump that died between recording a send
   * and arming leaves that contact unwatched only until the queue completes (a check reads every
   * contact).
   */
  arm(queueId: string, sentAt: string): Promise<void>;
}

/** The arming side, one per process: it remembers each queue's watch to skip needless writes. */
export const createDeliveryWatchArmer = (deps: ArmDeliveryWatchDeps): DeliveryWatchArmer => {
  const armed = new Map<string, ArmedQueue>();
  return {
    async arm(queueId, sentAtIso) {
      const now = deps.clock.now().getTime();
      let known = armed.get(queueId);
      if (known && now < known.checkAt - ARM_MARGIN_MS) return;
      if (!known) {
        const queue = await deps.store.getQueue(queueId);
        if (!queue) return;
        const tenant = await deps.store.getTenant(queue.tenantId);
        known = {
          tenantId: queue.tenantId,
          templateType: queue.templateType,
          timeoutMs: timeoutMsOf(tenant?.config.deliveryTimeoutMinutes),
          checkAt: 0,
        };
      }
      const sentAt = Math.max(now, new Date(sentAtIso).getTime() || now);
      const watch = await deps.store.armDeliveryWatch(
        {
          queueId,
          tenantId: known.tenantId,
          templateType: known.templateType,
          checkAt: new Date(sentAt + known.timeoutMs).toISOString(),
        },
        randomUUID(),
      );
      if (armed.size >= CACHE_LIMIT) armed.clear();
      armed.set(queueId, { ...known, checkAt: new Date(watch.checkAt).getTime() || 0 });
    },
  };
};

export interface CheckDeliveriesDeps {
  store: CampaignStore & DeliveryWatchStore & ReceiptRecountStore & SendingStore & TenantStore & CounterStore;
  events: BillingEvents;
  metrics: Metrics;
  clock: Clock;
  logger: Pick<Logger, 'error' | 'info'>;
}

export interface CheckDeliveriesResult {
  /** Watches checked. */
  checked: number;
  /** Contacts found stalled (each counted once, whichever sweeper found it). */
  stalled: number;
}

/**
 * The sweeper's pass over due delivery watches; a failure on one queue is logged and the others go on
 * (the failed one stays due and is checked again by the next sweep).
 */
export const checkStalledDeliveries = async (deps: CheckDeliveriesDeps): Promise<CheckDeliveriesResult> => {
  const now = deps.clock.now();
  const due = await deps.store.listDueDeliveryWatches(now.toISOString(), PAGE);
  const timeouts = new Map<string, number>();
  let stalled = 0;
  let checked = 0;
  for (const candidate of due) {
    if (deps.clock.now().getTime() - now.getTime() > CHECK_BUDGET_MS) break;
    try {
      const found = await checkQueue(deps, candidate.queueId, now, timeouts);
      if (found !== undefined) {
        checked += 1;
        stalled += found;
      }
    } catch (error) {
      deps.logger.error('delivery check failed', { queueId: candidate.queueId, error: error as Error });
    }
  }
  return { checked, stalled };
};

/**
 * One queue:
 * 1. the watch as stored (the index may lag): gone or not due -> nothing;
 * 2. its contacts from the watch's start position (base table, consistent) and the tenant's timeout;
 * 3. each contact sent before the cutoff with no acknowledgement: the queue flagged for a receipt
 *    recount (receipt-recount.ts: it counts them if this sweep dies before its counter write), one
 *    conditional write sets `stalledAt` (only the write that succeeds counts), then the queue
 *    counter and the tenant's figures (one ADD each for all), the metric and the
 *    `delivery_stalled` event;
 * 4. the watch moves to the earliest deadline still ahead, or is removed if no send armed it since
 *    it was read.
 * Returns how many contacts it found stalled (undefined: nothing was due).
 */
const checkQueue = async (
  deps: CheckDeliveriesDeps,
  queueId: string,
  now: Date,
  timeouts: Map<string, number>,
): Promise<number | undefined> => {
  const at = now.toISOString();
  const watch = await deps.store.getDeliveryWatch(queueId);
  if (!watch || watch.checkAt > at) return undefined;
  let timeoutMs = timeouts.get(watch.tenantId);
  if (timeoutMs === undefined) {
    const tenant = await deps.store.getTenant(watch.tenantId);
    timeoutMs = timeoutMsOf(tenant?.config.deliveryTimeoutMinutes);
    timeouts.set(watch.tenantId, timeoutMs);
  }
  const contacts = await deps.store.listContactDeliveries(queueId, watch.fromPosition);
  const plan = planDeliveryCheck(contacts, now, timeoutMs, watch.fromPosition);
  const cutoff = new Date(now.getTime() - timeoutMs).toISOString();

  // A sweeper that dies between the stalls' writes and their counter write would leave
  // contacts_stalled short: the queue's receipt recount, flagged first, counts them then.
  if (plan.stall.length > 0) await flagReceiptRecount(deps, queueId, watch.tenantId);
  const marked: number[] = [];
  for (const position of plan.stall) {
    if (await deps.store.markContactStalled(queueId, position, at, cutoff)) marked.push(position);
  }
  if (marked.length > 0) {
    await deps.store.addToQueueCounters(queueId, { contactsStalled: marked.length });
    await countTenantFigures(deps, watch.tenantId, now, { stalled: marked.length });
    const minutes = Math.round(timeoutMs / 60_000);
    const byPosition = new Map(contacts.map((c) => [c.position, c]));
    for (const position of marked) {
      deps.metrics.deliveryStalled({ tenantId: watch.tenantId, queueId, templateType: watch.templateType });
      await deps.events.emit({
        name: 'delivery_stalled',
        queueId,
        contactPosition: position,
        occurredAt: at,
        providerMessageId: byPosition.get(position)?.providerMessageId ?? null,
        error: {
          code: 'DELIVERY_STALLED',
          message: `Mensagem aceita pelo gateway sem confirmação do WhatsApp em ${minutes} minutos`,
        },
      });
    }
    deps.logger.info('stalled deliveries found', { queueId, stalled: marked.length });
  }

  if (plan.nextCheckAt)
    await deps.store.rescheduleDeliveryWatch(queueId, plan.nextCheckAt, plan.fromPosition);
  else await deps.store.removeDeliveryWatch(queueId, watch.token);
  return marked.length;
};
