import { randomUUID } from 'node:crypto';
import { chooseInstance } from '../domain/instance-choice.ts';
import type { Tenant, WhatsAppInstance } from '../domain/tenant-types.ts';
import type { BillingQueue } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { SendingStore, TenantStore } from '../ports/store.ts';
import type { GatewayConnectionState, GatewayTarget, WhatsAppGateway } from '../ports/whatsapp-gateway.ts';
import type { WorkItem, WorkQueue } from '../ports/work-queue.ts';
import { publishContinuation } from './queue-work.ts';
import { abandonAfterMs, CLAIM_MARGIN_MS } from './send-claims.ts';

const LEASE_BUSY_WAIT_MS = 1000;
/** A waiter noted longer ago than this has given up (its item was consumed by another path). */
const WAITER_FRESH_MS = 5 * LEASE_BUSY_WAIT_MS;

/**
 * The instance this run sends through: the queue's own while it is active, else the tenant's
 * default, else its oldest active one (a batch accepted while the tenant had none, or whose
 * instance was deactivated or removed, is not parked for good). undefined when the tenant has no
 * active instance.
 */
export const instanceForRun = async (
  deps: { store: TenantStore },
  queue: BillingQueue,
  tenant: Tenant,
): Promise<WhatsAppInstance | undefined> => {
  const own = queue.instanceId ? await deps.store.getInstance(queue.tenantId, queue.instanceId) : undefined;
  if (own?.isActive) return own;
  return chooseInstance(await deps.store.listInstances(queue.tenantId), [tenant.config.defaultInstanceId]);
};

/** Reads the instance's connection state from the gateway and remembers it on the instance. */
export const checkInstance = async (
  deps: { store: TenantStore; gateway: WhatsAppGateway },
  queue: BillingQueue,
  instance: WhatsAppInstance,
  target: GatewayTarget,
): Promise<GatewayConnectionState> => {
  const state = await deps.gateway.connectionState(target);
  if (state !== instance.connectionState) {
    await deps.store.setInstanceConnectionState(queue.tenantId, instance.id, state);
  }
  return state;
};

export interface TurnDeps {
  store: SendingStore;
  workQueue: WorkQueue;
  logger: Logger;
  metrics: Metrics;
  sleep: (ms: number) => Promise<void>;
}

/**
 * A queue's turn on its instance: the instance lease (one pump per instance), taken for this run.
 * The lease is a real lock: each claim and its send must end before the lease does, so `keep`
 * renews it before each claim when less than that is left.
 */
export class InstanceTurn {
  readonly #store: SendingStore;
  readonly #queue: BillingQueue;
  readonly #instanceId: string;
  readonly #owner = randomUUID();
  readonly #leaseMs: number;
  readonly #renewBelowMs: number;
  #endsAt: number;

  private constructor(
    store: SendingStore,
    queue: BillingQueue,
    instanceId: string,
    now: Date,
    options: { leaseMs: number; gatewayTimeoutMs: number },
  ) {
    this.#store = store;
    this.#queue = queue;
    this.#instanceId = instanceId;
    // Never shorter than a send can take plus a margin, so a lease renewed at a claim always
    // outlives that claim's gateway call.
    this.#leaseMs = Math.max(options.leaseMs, abandonAfterMs(options) + CLAIM_MARGIN_MS);
    // Renewed once a third is left (a send's worth at least): with the default 60 s lease that is
    // one renewal (and tenant re-read) every ~40 s, 0.09 writes a message at 20/min.
    this.#renewBelowMs = Math.max(this.#leaseMs / 3, abandonAfterMs(options));
    this.#endsAt = now.getTime() + this.#leaseMs;
  }

  /**
   * Takes the instance for this queue's turn, or puts the item at the back of the line
   * (`continued`). Queues on one instance take turns: having just had its turn, a queue lets a
   * waiting one go first. (On SQS the FIFO message group already orders them; RabbitMQ has no
   * groups, hence the waiter noted on the lease.) A turn comes with when the instance last sent
   * (ms, 0 when never), for pacing from the previous holder's last send.
   */
  static async take(
    deps: TurnDeps,
    queue: BillingQueue,
    instanceId: string,
    now: Date,
    options: { leaseMs: number; gatewayTimeoutMs: number },
    handover?: WorkItem['handover'],
  ): Promise<{ turn: InstanceTurn; lastSendAt: number } | 'continued'> {
    const { store } = deps;
    const turn = new InstanceTurn(store, queue, instanceId, now, options);
    const lease = await store.acquireInstanceLease(
      queue.tenantId,
      instanceId,
      { owner: turn.#owner, queueId: queue.id },
      now.toISOString(),
      new Date(turn.#endsAt).toISOString(),
    );
    const waiterIsFresh = (at: string) => new Date(at).getTime() > now.getTime() - WAITER_FRESH_MS;
    const yieldTurn =
      lease.acquired &&
      lease.lastHolderQueueId === queue.id &&
      lease.waiter !== null &&
      lease.waiter.queueId !== queue.id &&
      waiterIsFresh(lease.waiter.at);
    if (!lease.acquired || yieldTurn) {
      if (yieldTurn)
        await store.releaseInstanceLease(queue.tenantId, instanceId, turn.#owner, lease.lastSendAt, queue.id);
      // The short wait keeps a broker without message groups from spinning the item.
      await store.noteInstanceWaiter(queue.tenantId, instanceId, queue.id, now.toISOString());
      await deps.sleep(LEASE_BUSY_WAIT_MS);
      // The queue did not run: a clean handover stays one.
      await publishContinuation(deps, queue, handover);
      return 'continued';
    }
    if (lease.waiter?.queueId === queue.id)
      await store.noteInstanceWaiter(queue.tenantId, instanceId, queue.id, null);
    return { turn, lastSendAt: lease.lastSendAt ? new Date(lease.lastSendAt).getTime() : 0 };
  }

  /**
   * Makes sure the lease outlasts a claim made at `at` and its send: renewed when less than that
   * is left (a lease that ran out during the pacing wait is renewed only if no other pump took it
   * meanwhile). `renewed` lets the caller re-read what may have changed since; `lost` means another
   * pump took over.
   */
  async keep(at: Date, lastSendAt: number): Promise<'kept' | 'renewed' | 'lost'> {
    if (this.#endsAt - at.getTime() >= this.#renewBelowMs) return 'kept';
    const until = at.getTime() + this.#leaseMs;
    const renewed = await this.#store.renewInstanceLease(
      this.#queue.tenantId,
      this.#instanceId,
      this.#owner,
      new Date(until).toISOString(),
      lastSendOf(lastSendAt),
    );
    if (!renewed) return 'lost';
    this.#endsAt = until;
    return 'renewed';
  }

  /** Hands the instance back, remembering when it last sent (the next holder paces from it). */
  async release(lastSendAt: number): Promise<void> {
    const { tenantId, id } = this.#queue;
    await this.#store.releaseInstanceLease(
      tenantId,
      this.#instanceId,
      this.#owner,
      lastSendOf(lastSendAt),
      id,
    );
  }
}

/**
 * How much later than the run places it the lease records the last send. On one host the anchors
 * keep the hand-over on the safe side (IntervalClock.onWallNow), but the next holder may run on
 * another host, whose wall clock NTP keeps within a millisecond or a few of this one's, and it
 * paces its first call by that clock. Once per run, so the mean interval does not move.
 */
export const HANDOVER_CLOCK_MARGIN_MS = 3;

/**
 * Rounded up to the stored millisecond, with the margin: the next holder must never pace from a
 * moment too early (the run places its last send on the wall clock on the late side:
 * IntervalClock.onWallNow).
 */
const lastSendOf = (lastSendAt: number): string | null =>
  lastSendAt ? new Date(Math.ceil(lastSendAt + HANDOVER_CLOCK_MARGIN_MS)).toISOString() : null;
