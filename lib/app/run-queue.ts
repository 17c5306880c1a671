import { isOpen } from '../domain/business-hours.ts';
import { Pacer } from '../domain/pacer.ts';
import { isFinalQueueStatus, queueStatusesThatCanMoveTo } from '../domain/queue-state.ts';
import { retentionStart } from '../domain/retention.ts';
import type { BusinessCalendar, Tenant, WhatsAppInstance } from '../domain/tenant-types.ts';
import type { BillingContact, BillingQueue } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { BillingEvents } from '../ports/billing-events.ts';
import { type Clock, type IntervalClock, intervalClockOf } from '../ports/clock.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import type { SecretResolver } from '../ports/secrets.ts';
import type {
  CallbackStore,
  CampaignStore,
  ConversationStore,
  CounterStore,
  FeedbackStore,
  SendingStore,
  TenantStore,
} from '../ports/store.ts';
import type { GatewayTarget, WhatsAppGateway } from '../ports/whatsapp-gateway.ts';
import type { WorkItem, WorkQueue } from '../ports/work-queue.ts';
import type { DeliveryWatchArmer } from './delivery-watch.ts';
import { finishOrWait } from './finish-or-wait.ts';
import type { InstancePaceMemory } from './instance-pace-memory.ts';
import { checkInstance, InstanceTurn, instanceForRun } from './instance-turn.ts';
import { reserveWarmupSend, warmupCapReached } from './instance-warmup.ts';
import { emitMissedEvents } from './missed-events.ts';
import { deferContact, send, skipOptedOut, waitForPreSend } from './pump-steps.ts';
import { deferToOpening, markInstanceDown, parkUntilRecheck, waitForWarmup } from './queue-deferral.ts';
import { ProgressBuffer, recountCounters } from './queue-progress.ts';
import { publishContinuation, transitionWithMetrics } from './queue-work.ts';
import { ReminderCaps } from './reminder-caps.ts';
import { settleAbandonedClaims } from './send-claims.ts';
import { SendableContacts } from './sendable-contacts.ts';
import { stoppableSleep } from './stoppable-sleep.ts';
import { tenantRetentionDays } from './tenant-retention.ts';

export interface PumpDeps {
  store: SendingStore &
    CampaignStore &
    TenantStore &
    FeedbackStore &
    ConversationStore &
    CounterStore &
    Pick<CallbackStore, 'getCallbackEvent' | 'listCallbackEventIds'>;
  events: BillingEvents;
  /** Armed after each accepted send (stalled deliveries, delivery-watch.ts). */
  deliveryWatch: DeliveryWatchArmer;
  metrics: Metrics;
  gateway: WhatsAppGateway;
  workQueue: WorkQueue;
  scheduler: Scheduler;
  secrets: SecretResolver;
  clock: Clock;
  random: () => number;
  logger: Logger;
  sleep: (ms: number) => Promise<void>;
  /** Exact hand-overs between runs of this process (the composition root's); without it, the lease's. */
  paceMemory?: InstancePaceMemory;
}

export interface PumpOptions {
  /** Stop sending after this long and publish a continuation (Lambda timeout minus a margin). */
  budgetMs: number;
  /** Instance lease length; renewed well before it ends. */
  leaseMs: number;
  /**
   * The gateway client's timeout: a send can take this long, so the lease must have at least this
   * much left (plus a margin) at each claim, and a claim younger than this may still be in flight.
   */
  gatewayTimeoutMs: number;
  /**
   * The process is stopping (a local Ctrl-C): the run hands its queue back at the next point where
   * nothing is claimed (a send already claimed goes out), as when its budget is spent.
   */
  stopSignal?: AbortSignal;
}

export type PumpResult =
  | 'completed'
  | 'continued'
  | 'scheduled'
  | 'stopped'
  | 'skipped'
  | 'lease_lost'
  | 'instance_missing'
  | 'instance_down';

/** Consecutive transient failures after which the instance's connection state is read. */
const TRANSIENT_FAILURES_BEFORE_CHECK = 3;

/** What a run sends with, once the queue, its tenant and an open instance are known. */
export interface RunPlan {
  deps: PumpDeps;
  options: PumpOptions;
  log: Logger;
  /** When the run stops sending and publishes a continuation (ms). */
  budgetEnd: number;
  /** The queue as last read or written. */
  queue: BillingQueue;
  /** The run sends through another instance than the stored queue names (none, or one gone). */
  instanceChanged: boolean;
  /** Re-read at each lease renewal: a change of pace applies to a running queue. */
  tenant: Tenant;
  instance: WhatsAppInstance;
  target: GatewayTarget;
  /** The business hours to respect; undefined for notifications (24/7). */
  calendar: BusinessCalendar | undefined;
}

/** A run holding its instance's turn (its per-contact steps: pump-steps.ts). */
export interface Run extends RunPlan {
  turn: InstanceTurn;
  pacer: Pacer;
  /** What the pacer's times are read on (ports/clock.ts): the wall clock, advanced monotonically. */
  intervals: IntervalClock;
  progress: ProgressBuffer;
  /** The per-debtor frequency cap, with the phones this run sent to. */
  caps: ReminderCaps;
  /** The queue's sendable contacts, in batch order from where the run starts. */
  contacts: SendableContacts;
  /** `deps.sleep`, cut short by `options.stopSignal`. */
  stoppableSleep: (ms: number) => Promise<void>;
  /**
   * Positions whose attempt event (sent, failed, unknown) this run emitted: its completion does not
   * look for them again (an eventually consistent listing a moment later may not show them yet).
   */
  announced: Set<number>;
}

/**
 * The sender's pump for one work item (= one queue), design section 5:
 * 1. load the queue and its tenant; stop if the queue is gone, paused, cancelled or finished;
 * 2. choose the instance (none active -> `instance_down`, re-checked with backoff);
 * 3. outside business hours (overdue, upcoming) -> `scheduled` + a schedule at the next opening;
 *    the instance's warm-up cap for today already reached -> `scheduled` until the next day's opening;
 * 4. the instance must be `open` (else `instance_down`, re-checked with backoff) (1-4: `planRun`);
 * 5. take the instance's turn (its lease: one pump per instance), pacing from the previous
 *    holder's last send (`InstanceTurn.take`);
 * 6. `running`, settling contacts a dead pump left in `sending` (the ambiguous-send policy) and
 *    making the counters match the contacts (`startRunning`);
 * 7. loop (`sendUntilDone`): pick the next contact, defer it if its phone was reminded too recently
 *    (the per-debtor frequency cap), wait for its pacing slot, check the status, business hours
 *    and lease, skip it if its phone opted out, reserve a send of the instance's warm-up day, claim
 *    it, send, record, count; stop on pause/cancel, closing time, the warm-up cap, lease loss,
 *    repeated transient failures on a down instance, or the time budget (then publish a
 *    continuation);
 * 8. no contact left to send: `completed`, or wait for retries and deferred contacts (`finishOrWait`).
 * The counters not yet written and the instance's turn are handed back on every way out.
 */
export const runQueue = async (deps: PumpDeps, item: WorkItem, options: PumpOptions): Promise<PumpResult> => {
  const started = deps.clock.now();
  const log = deps.logger.createChild({ persistentKeys: { queueId: item.queueId, tenantId: item.tenantId } });
  const plan = await planRun(deps, item, options, started, log);
  if (typeof plan === 'string') return plan;
  const taken = await InstanceTurn.take(deps, plan.queue, plan.instance.id, started, options, item.handover);
  if (taken === 'continued') return 'continued';
  const intervals = intervalClockOf(deps.clock);
  const lastSendAt =
    deps.paceMemory?.paceFrom(plan.queue.tenantId, plan.instance.id, intervals, taken.lastSendAt) ??
    taken.lastSendAt;
  const pacer = new Pacer(deps.random, lastSendAt);
  const progress = new ProgressBuffer(deps, plan.queue, () => pacer.measuredRate());
  const run: Run = {
    ...plan,
    turn: taken.turn,
    pacer,
    intervals,
    progress,
    caps: new ReminderCaps(deps, plan.queue, plan.calendar),
    // An erased debtor who had opted out is suppressed by the salted digest of the phone.
    contacts: new SendableContacts(
      deps,
      plan.queue,
      () => run.tenant.erasureSalt,
      item.handover?.afterPosition ?? undefined,
    ),
    stoppableSleep: stoppableSleep(deps.sleep, options.stopSignal),
    announced: new Set(),
  };
  try {
    if (!(await startRunning(run, started, item.handover !== undefined))) return 'stopped';
    return await sendUntilDone(run);
  } finally {
    // Lost counters would make the status lie: write them on every way out, errors included.
    await progress
      .flushIfAny()
      .catch((error: unknown) => log.error('could not write the last counters', { error }));
    await taken.turn.release(handOver(run));
  }
};

/**
 * Hands the instance's last send over: remembered in this process (`deps.paceMemory`, for a next
 * holder here), and returned on the wall clock the lease carries it by (0: never sent).
 */
const handOver = (run: Pick<Run, 'deps' | 'pacer' | 'intervals' | 'queue' | 'instance'>): number => {
  const at = run.pacer.handoverSendAt;
  run.deps.paceMemory?.rememberHandover(run.queue.tenantId, run.instance.id, run.intervals, at);
  return at === 0 ? 0 : run.intervals.onWallNow(at);
};

/** Steps 1 to 4: what the run sends with, or why it does not send now. */
const planRun = async (
  deps: PumpDeps,
  item: WorkItem,
  options: PumpOptions,
  started: Date,
  log: Logger,
): Promise<RunPlan | PumpResult> => {
  const { store } = deps;
  const queue = await store.getQueue(item.queueId);
  if (queue?.status === 'completed') {
    // The work item of a run that died between completing its queue and announcing it comes back.
    await announceCompletion(deps, queue);
    return 'skipped';
  }
  if (!queue || isFinalQueueStatus(queue.status) || queue.status === 'paused') return 'skipped';
  // An older item of a parked queue: a newer one (its re-check) has been published since.
  if (queue.status === 'instance_down' && item.generation < queue.publishGeneration) return 'skipped';
  const tenant = await store.getTenant(queue.tenantId);
  if (!tenant) return 'skipped';
  const instance = await instanceForRun(deps, queue, tenant);
  if (!instance) {
    await parkUntilRecheck(deps, queue, 'Nenhuma instância WhatsApp ativa para esta fila');
    return 'instance_missing';
  }
  const calendar =
    queue.templateType === 'notification' ? undefined : await store.getCalendar(queue.tenantId);
  if (queue.templateType !== 'notification' && !calendar) {
    log.error('tenant has no business hours; refusing to send a billing reminder');
    return 'skipped';
  }
  if (calendar && !isOpen(calendar, started)) return deferToOpening(deps, queue, calendar, started);
  // Known before the lease is taken: a queue on a number that sent its day's share just waits.
  const capped = await warmupCapReached(deps, tenant, instance, started);
  if (capped) return waitForWarmup(deps, queue, calendar, tenant.config.timezone, capped, started);

  const apiKey = await deps.secrets.resolve(instance.credentialRef);
  const target: GatewayTarget = { baseUrl: instance.baseUrl, instanceName: instance.instanceName, apiKey };
  // A dropped WhatsApp instance must not burn through the queue: look before sending.
  const state = await checkInstance(deps, queue, instance, target);
  if (state !== 'open') return markInstanceDown(deps, queue, state);
  return {
    deps,
    options,
    log,
    budgetEnd: started.getTime() + options.budgetMs,
    queue: queue.instanceId === instance.id ? queue : { ...queue, instanceId: instance.id },
    instanceChanged: queue.instanceId !== instance.id,
    tenant,
    instance,
    target,
    calendar,
  };
};

/** The `queue.completed` event of a completed queue, unless it is stored (missed-events.ts). */
const announceCompletion = async (deps: PumpDeps, queue: BillingQueue): Promise<void> => {
  const now = deps.clock.now();
  const retentionDays = await tenantRetentionDays(deps.store, queue.tenantId);
  const missed = await emitMissedEvents(
    deps,
    queue,
    [
      {
        name: 'queue.completed',
        queueId: queue.id,
        contactPosition: null,
        occurredAt: queue.completedAt ?? now.toISOString(),
      },
    ],
    retentionStart(now, retentionDays),
  );
  if (missed > 0)
    deps.logger.warn('a queue.completed event a crash had lost was emitted', { queueId: queue.id });
};

/**
 * Step 6: the queue becomes `running` on this run's instance (false when it moved meanwhile:
 * paused, cancelled). Taking over from an earlier pump (a continuation, or one that died with
 * counter changes unwritten, up to COUNTERS_FLUSH_EVERY_SENDS of them), or resuming a queue that
 * ran before (its pump may have died before the pause), the counters are made to match the
 * contacts before going on. After a clean handover (WorkItem.handover) of a queue still running
 * on the same instance there is nothing to repair and nothing to write: the previous run settled
 * its claims and wrote its counters, so neither whole-queue read is made (a claim some other pump
 * left is settled by `finishOrWait` before the queue can complete, and the next run without a
 * handover looks for it first).
 */
const startRunning = async (run: Run, started: Date, cleanHandover: boolean): Promise<boolean> => {
  const { deps, queue } = run;
  // Still running on the same instance: the queue item already says everything the transition
  // would write (its status was read at the start of this run), so it is not rewritten with its two
  // index copies; the previous run's counter write is the sweeper's sign of life until this run's.
  if (cleanHandover && queue.status === 'running' && !run.instanceChanged) return true;
  const running = await transitionWithMetrics(deps, queue, queueStatusesThatCanMoveTo('running'), 'running', {
    startedAt: queue.startedAt ?? started.toISOString(),
    nextRunAt: null,
    pausedAt: null,
    pauseReason: '',
    // The instance this run sends through (the tenant's first active one when it had none).
    instanceId: run.instance.id,
  });
  if (!running) return false;
  run.queue = running;
  const stuck = await deps.store.listStuckContacts(running.id);
  const settled = await settleAbandonedClaims(deps, running, run.tenant, stuck, run.options);
  const resumed = queue.status === 'pending' && Boolean(queue.startedAt);
  if (queue.status === 'running' || resumed || settled > 0)
    run.queue = (await recountCounters(deps, running)) ?? running;
  return true;
};

/** Steps 7 and 8: one contact at a time until none is left, or the run has to stop. */
const sendUntilDone = async (run: Run): Promise<PumpResult> => {
  const { deps, contacts } = run;
  /** The status was just read: the next claim needs no status check first. */
  let statusIsFresh = true;
  let transientInARow = 0;
  for (;;) {
    const now = deps.clock.now();
    if (now.getTime() >= run.budgetEnd || stopRequested(run)) return continueLater(run);
    const next = await contacts.next(now);
    if (!next) {
      await run.progress.flushIfAny();
      const waiting = { ...deps, sleep: run.stoppableSleep };
      const outcome = await finishOrWait(waiting, run.queue, run.tenant, run.budgetEnd, {
        ...run.options,
        announced: run.announced,
      });
      if (outcome === 'wait') continue;
      return outcome;
    }
    const deferUntil = await run.caps.deferUntil(next.phone, now, run.tenant.config);
    if (deferUntil) {
      await deferContact(run, next, deferUntil, now);
      continue;
    }
    // Pacing: the gateway call happens no sooner than the tenant's interval (with jitter) after
    // this instance's last one.
    const sendAt = run.pacer.nextSendAt(run.tenant.config);
    if (sendAt >= run.budgetEnd) return continueLater(run, next);
    const preSendStarted = await waitForPreSend(run, sendAt);
    if (stopRequested(run)) return continueLater(run, next);
    if (!statusIsFresh && !(await stillRunning(run))) return 'stopped';
    statusIsFresh = false;
    const claimAt = deps.clock.now();
    const stop = await checkBeforeClaim(run, claimAt, sendAt);
    if (stop) return stop;
    if (await contacts.isOptedOut(next)) {
      await skipOptedOut(run, next, claimAt);
      continue;
    }
    const warmupCap = await reserveWarmupSend(deps, run.tenant, run.instance, claimAt);
    if (warmupCap) {
      await run.progress.flushIfAny();
      return waitForWarmup(deps, run.queue, run.calendar, run.tenant.config.timezone, warmupCap, claimAt);
    }
    const claimed = await deps.store.claimContact(run.queue.id, next.position, claimAt.toISOString());
    if (!claimed) {
      // Not claimable (another pump has it, or it was cancelled): the status was checked just
      // before, so the next claim needs no check first.
      statusIsFresh = true;
      continue;
    }
    run.pacer.notePreSendTook(run.intervals.now() - preSendStarted);
    const outcome = await send(run, claimed, next.status === 'retry', sendAt);
    transientInARow = outcome.kind === 'transient' ? transientInARow + 1 : 0;
    if (transientInARow >= TRANSIENT_FAILURES_BEFORE_CHECK) {
      const state = await checkInstance(deps, run.queue, run.instance, run.target);
      if (state !== 'open') {
        await run.progress.flushIfAny();
        return markInstanceDown(deps, run.queue, state);
      }
      transientInARow = 0;
    }
  }
};

const stopRequested = (run: Run): boolean => run.options.stopSignal?.aborted === true;

/**
 * The time budget is spent: write the counters and put the queue at the back of the line, handing
 * over where the next run picks up: before `untaken` (a contact taken but not claimed), else after
 * the last contact taken. Only reached between sends (every claim of this run settled) and after the
 * counters' write: a clean handover (WorkItem.handover).
 */
const continueLater = async (run: Run, untaken?: BillingContact): Promise<'continued'> => {
  await run.progress.flushIfAny();
  const resumeAt = untaken ? untaken.position - 1 : run.contacts.lastPosition;
  const afterPosition = resumeAt === undefined || resumeAt < 0 ? null : resumeAt;
  await publishContinuation(run.deps, run.queue, { afterPosition });
  return 'continued';
};

/**
 * The status as of now (the counter write when it is due, else a consistent read of the status,
 * `ProgressBuffer.statusBeforeSend`): a pause or cancel that arrived while waiting stops the run
 * here, before the next send.
 */
const stillRunning = async (run: Run): Promise<boolean> =>
  (await run.progress.statusBeforeSend()) === 'running';

/**
 * Whether the run may claim at `now` for the send due at `sendAt` (on the run's interval clock, in
 * epoch ms); else how it stops:
 * - business hours: a send that would go out at or after closing time (the claim comes a little
 *   before its slot) defers the queue to the next opening;
 * - the lease must outlast the claim and its send (`InstanceTurn.keep`); a renewal also re-reads
 *   the tenant, whose pace may have changed (running queues follow it without a pause/resume).
 */
const checkBeforeClaim = async (run: Run, now: Date, sendAt: number): Promise<PumpResult | undefined> => {
  const { deps } = run;
  const sendsAt = new Date(Math.max(now.getTime(), sendAt));
  if (run.calendar && !isOpen(run.calendar, sendsAt)) {
    await run.progress.flushIfAny();
    return deferToOpening(deps, run.queue, run.calendar, sendsAt);
  }
  const lease = await run.turn.keep(now, handOver(run));
  if (lease === 'lost') {
    run.log.warn('instance lease lost; another pump took over');
    // As a dead pump's: the next run of the queue recounts them (see ProgressBuffer).
    run.progress.forgetCounters();
    return 'lease_lost';
  }
  if (lease === 'renewed') run.tenant = (await deps.store.getTenant(run.queue.tenantId)) ?? run.tenant;
  return undefined;
};
