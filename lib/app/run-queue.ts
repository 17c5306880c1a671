import { randomUUID } from 'node:crypto';
import { isOpen, nextOpening } from '../domain/business-hours.ts';
import { nextIntervalMs } from '../domain/pacing.ts';
import { maskPhone } from '../domain/phone.ts';
import { isFinalQueueStatus } from '../domain/queue-state.ts';
import { decideAfterAttempt } from '../domain/send-outcome.ts';
import type {
  BillingContact,
  BillingQueue,
  BusinessCalendar,
  ContactSendResult,
  ContactStatus,
  QueueCounter,
  QueueRunFields,
  Tenant,
  WhatsAppInstance,
} from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { BillingEvents } from '../ports/billing-events.ts';
import type { Clock } from '../ports/clock.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import type { SecretResolver } from '../ports/secrets.ts';
import type { ContactSummary, SendingStore, Store } from '../ports/store.ts';
import type {
  GatewayConnectionState,
  GatewayTarget,
  SendOutcome,
  WhatsAppGateway,
} from '../ports/whatsapp-gateway.ts';
import type { WorkItem, WorkQueue } from '../ports/work-queue.ts';
import { publishOrLeaveToSweeper, scheduleOrLeaveToSweeper } from './fallback-to-sweeper.ts';

export interface PumpDeps {
  store: Store;
  events: BillingEvents;
  metrics: Metrics;
  gateway: WhatsAppGateway;
  workQueue: WorkQueue;
  scheduler: Scheduler;
  secrets: SecretResolver;
  clock: Clock;
  random: () => number;
  logger: Logger;
  sleep: (ms: number) => Promise<void>;
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

const PREFETCH = 50;
const LEASE_BUSY_WAIT_MS = 1000;
/** How old the opt-out answer for the prefetched contacts may be before it is asked again. */
const OPT_OUT_FRESH_MS = 10_000;
/** A waiter noted longer ago than this has given up (its item was consumed by another path). */
const WAITER_FRESH_MS = 5 * LEASE_BUSY_WAIT_MS;
/** Recent sends kept to measure `current_rate`. */
const RATE_WINDOW = 20;
/** Extra spacing after WhatsApp answered `rate-overlimit`, decaying back to 1 over later sends. */
const RATE_LIMIT_SLOWDOWN = 4;

/**
 * Slack on top of the gateway timeout: the lease must outlast a send by this much, and a claim is
 * taken for abandoned only this long after its send must have ended.
 */
const CLAIM_MARGIN_MS = 5_000;
/** Consecutive transient failures after which the instance's connection state is read. */
const TRANSIENT_FAILURES_BEFORE_CHECK = 3;
/** Re-checks of a down instance back off: 1, 2, 5, 10, then every 15 minutes. */
const RECHECK_MINUTES = [1, 2, 5, 10, 15];

/** Which schedule defers a queue to `at` (deterministic, so a repeat is a no-op). */
export const resumeScheduleName = (queueId: string, at: Date): string =>
  `resume-${queueId}-${at.toISOString().replace(/[-:.]/g, '').slice(0, 13)}`;

/**
 * The sender's pump for one work item (= one queue), design section 5:
 * 1. load the queue; stop if it is gone, paused, cancelled or finished;
 * 2. outside business hours (overdue, upcoming) -> `scheduled` + a schedule at the next opening;
 * 3. the instance must be `open` (else `instance_down`, re-checked with backoff), then take its
 *    lease (one pump per instance), pacing from the previous holder's last send;
 * 4. settle contacts a dead pump left in `sending` (the ambiguous-send policy);
 * 5. loop: wait for the pacing slot, claim a contact, send, record, count; stop on pause/cancel,
 *    closing time, lease loss, repeated transient failures on a down instance, or the time
 *    budget (then publish a continuation);
 * 6. no contact left to send or retry -> `completed`.
 */
export const runQueue = async (deps: PumpDeps, item: WorkItem, options: PumpOptions): Promise<PumpResult> => {
  const { store, logger } = deps;
  const started = deps.clock.now();
  const budgetEnd = started.getTime() + options.budgetMs;
  const log = logger.createChild({ persistentKeys: { queueId: item.queueId, tenantId: item.tenantId } });

  let queue = await store.getQueue(item.queueId);
  if (!queue || isFinalQueueStatus(queue.status) || queue.status === 'paused') return 'skipped';
  if (queue.status === 'instance_down' && item.generation < queue.publishGeneration) return 'skipped';
  let tenant = await store.getTenant(queue.tenantId);
  if (!tenant) return 'skipped';
  const instance = await instanceForRun(deps, queue);
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

  const apiKey = await deps.secrets.resolve(instance.credentialRef);
  const target: GatewayTarget = { baseUrl: instance.baseUrl, instanceName: instance.instanceName, apiKey };
  // A dropped WhatsApp instance must not burn through the queue: look before sending.
  const state = await checkInstance(deps, queue, instance, target);
  if (state !== 'open') return markInstanceDown(deps, queue, state);
  if (queue.instanceId !== instance.id) queue = { ...queue, instanceId: instance.id };

  const owner = randomUUID();
  const leaseMs = leaseLengthMs(options);
  let leaseEndsAt = started.getTime() + leaseMs;
  const turn = await takeTurn(deps, queue, instance.id, owner, started, new Date(leaseEndsAt).toISOString());
  if (turn === 'continued') return 'continued';
  let lastSendAt = turn.lastSendAt;
  /** Writes counters not yet written; set once the loop starts. */
  let flushOnExit: () => Promise<void> = async () => undefined;
  try {
    const running = await transitionWithMetrics(
      deps,
      queue,
      ['pending', 'scheduled', 'instance_down', 'running'],
      'running',
      {
        startedAt: queue.startedAt ?? started.toISOString(),
        nextRunAt: null,
        pausedAt: null,
        pauseReason: '',
        // The instance this run sends through (the tenant's first active one when it had none).
        instanceId: instance.id,
      },
    );
    if (!running) return 'stopped';
    const wasRunning = queue.status === 'running';
    queue = running;
    const settled = await settleAbandonedClaims(
      deps,
      queue,
      tenant,
      await store.listStuckContacts(queue.id),
      options,
    );
    // Taking over from an earlier pump (a continuation, or one that died between a send and its
    // counter write): make the counters match the contacts before going on.
    if (wasRunning || settled > 0) queue = (await recountCounters(deps, queue)) ?? queue;

    const recentSends: number[] = [];
    let slowdown = 1;
    let transientInARow = 0;
    let afterPosition: number | undefined;
    let candidates: BillingContact[] = [];
    /**
     * Counter changes not yet written. They go out in the one progress write made right before
     * the next claim, whose answer is also the freshest status: a pause or cancel that came during
     * the pacing wait wins before the next send, with no extra read. Whatever is left
     * is written on every way out (`flush`), and completion recounts from the contacts.
     */
    let pending: Partial<Record<QueueCounter, number>> = {};
    const addDeltas = (deltas: Partial<Record<QueueCounter, number>>) => {
      for (const [name, value] of Object.entries(deltas) as Array<[QueueCounter, number]>) {
        pending[name] = (pending[name] ?? 0) + value;
      }
    };
    /** Writes the pending counters and the measured rate; returns the queue after the write. */
    const { id: queueId, tenantId } = queue;
    const flush = async (): Promise<BillingQueue | undefined> => {
      const deltas = pending;
      pending = {};
      const updated = await store.updateQueueProgress(queueId, deltas, {
        currentRate: measuredRate(recentSends),
      });
      if (updated) deps.metrics.sendRate({ tenantId, queueId, perMinute: updated.currentRate });
      return updated;
    };
    flushOnExit = async () => {
      if (Object.keys(pending).length > 0) await flush();
    };
    let fresh = true;
    let optedOut = new Set<string>();
    /** How long the status read, claim and opt-out check take before a send (moving average). */
    let preSendMs = 0;
    /**
     * Jitter draws in mirrored pairs (r, then 1 - r): every interval still varies, and each pair
     * averages exactly the configured interval, so the rate holds over a few sends, not only over
     * hundreds.
     */
    let mirror: number | undefined;
    const jitterRandom = (): number => {
      if (mirror !== undefined) {
        const r = mirror;
        mirror = undefined;
        return r;
      }
      const r = deps.random();
      mirror = Math.min(1 - r, 1 - Number.EPSILON);
      return r;
    };
    /** How late timers have been waking (moving average), to aim the last wait. */
    let timerLateMs = 0;
    let optOutsCheckedAt = Number.NEGATIVE_INFINITY;

    for (;;) {
      const now = deps.clock.now();
      if (now.getTime() >= budgetEnd) {
        await flushOnExit();
        await publishContinuation(deps, queue);
        return 'continued';
      }

      if (candidates.length === 0) {
        optOutsCheckedAt = Number.NEGATIVE_INFINITY;
        candidates = await store.listSendableContacts(queue.id, now.toISOString(), PREFETCH, afterPosition);
        if (candidates.length === 0 && afterPosition !== undefined) {
          // Reached the end of the batch: start again from the top for retries that came due.
          afterPosition = undefined;
          candidates = await store.listSendableContacts(queue.id, now.toISOString(), PREFETCH);
        }
        if (candidates.length === 0) {
          await flushOnExit();
          const outcome = await finishOrWait(deps, queue, tenant, budgetEnd, options);
          if (outcome === 'wait') continue;
          return outcome;
        }
      }
      // biome-ignore lint/style/noNonNullAssertion: candidates is not empty here
      const next = candidates.shift()!;
      afterPosition = next.position;

      // Pacing: the gateway call happens no sooner than the tenant's interval (with jitter) after
      // this instance's last one. The status read and the claim are done just before that moment
      // (`preSendMs` ahead, learnt from the last sends), so they do not stretch every interval.
      const interval = nextIntervalMs(tenant.config, jitterRandom) * slowdown;
      const sendTarget = lastSendAt + interval;
      if (sendTarget >= budgetEnd) {
        await flushOnExit();
        await publishContinuation(deps, queue);
        return 'continued';
      }
      const waitMs = sendTarget - preSendMs - deps.clock.now().getTime();
      if (waitMs > 0) await deps.sleep(Math.ceil(waitMs));
      const preSendStarted = deps.clock.now().getTime();
      if (!fresh) {
        // The status as of now: a pause or cancel that arrived while waiting stops us here.
        const current = await flush();
        if (current?.status !== 'running') return 'stopped';
        queue = current;
      }
      fresh = false;
      const sendAt = deps.clock.now();
      if (calendar && !isOpen(calendar, sendAt)) {
        await flushOnExit();
        return deferToOpening(deps, queue, calendar, sendAt);
      }

      // The lease is a real lock: this claim and its send must end before the lease does (a lease
      // that ran out during the pacing wait is renewed only if no other pump took it meanwhile).
      if (leaseEndsAt - sendAt.getTime() < Math.max((leaseMs * 2) / 3, abandonAfterMs(options))) {
        const lastSend = lastSendAt ? new Date(lastSendAt).toISOString() : null;
        const until = sendAt.getTime() + leaseMs;
        if (
          !(await store.renewInstanceLease(
            queue.tenantId,
            instance.id,
            owner,
            new Date(until).toISOString(),
            lastSend,
          ))
        ) {
          log.warn('instance lease lost; another pump took over');
          return 'lease_lost';
        }
        leaseEndsAt = until;
        // The tenant's pace may have changed: running queues follow it without a pause/resume.
        tenant = (await store.getTenant(queue.tenantId)) ?? tenant;
      }

      // The phone may have opted out after the batch was accepted (a SAIR reply, the API): never send.
      // Checked before the claim (a failure here leaves the contact untouched), for the whole
      // prefetched page at once, and again once the answer is a few seconds old.
      if (deps.clock.now().getTime() - optOutsCheckedAt > OPT_OUT_FRESH_MS) {
        optedOut = await store.findOptedOut(queue.tenantId, [next.phone, ...candidates.map((c) => c.phone)]);
        optOutsCheckedAt = deps.clock.now().getTime();
      }
      if (optedOut.has(next.phone)) {
        const was = await store.skipOptedOutContact(queue.id, next.position, sendAt.toISOString());
        if (was) addDeltas({ contactsSkipped: 1, ...(was === 'retry' ? { contactsPendingRetry: -1 } : {}) });
        continue;
      }
      const claimed = await store.claimContact(queue.id, next.position, sendAt.toISOString());
      if (!claimed) {
        fresh = true;
        continue;
      }
      const wasRetry = next.status === 'retry';
      preSendMs = 0.8 * preSendMs + 0.2 * (deps.clock.now().getTime() - preSendStarted);
      // Timers wake late by a millisecond or two: aim that much early (learnt), then make sure the
      // slot has come, so calls are never early and on average barely late.
      const early = sendTarget - deps.clock.now().getTime();
      if (early > 0) await deps.sleep(Math.max(0, Math.floor(early - timerLateMs)));
      const stillEarly = sendTarget - deps.clock.now().getTime();
      if (stillEarly > 0) await deps.sleep(stillEarly);
      const sendStarted = deps.clock.now().getTime();
      if (early > 0) timerLateMs = 0.8 * timerLateMs + 0.2 * Math.max(0, sendStarted - sendTarget);
      // The interval WhatsApp sees is between gateway calls, not between claims.
      lastSendAt = sendStarted;
      const outcome = await deps.gateway.sendText(
        target,
        claimed.phone.replace(/^\+/, ''),
        claimed.renderedMessage,
      );
      const doneAt = deps.clock.now();
      recentSends.push(doneAt.getTime());
      if (recentSends.length > RATE_WINDOW) recentSends.shift();
      slowdown =
        outcome.kind === 'transient' && outcome.rateLimited
          ? RATE_LIMIT_SLOWDOWN
          : Math.max(1, slowdown * 0.8);

      const decision = decideAfterAttempt(outcome, claimed.attempts, wasRetry, tenant.config, doneAt);
      transientInARow = outcome.kind === 'transient' ? transientInARow + 1 : 0;
      if (decision.result.status !== 'pending' && decision.result.status !== 'skipped_opt_out') {
        deps.metrics.messageSent({
          tenantId: queue.tenantId,
          queueId: queue.id,
          templateType: queue.templateType,
          status: decision.result.status,
          durationMs: doneAt.getTime() - sendStarted,
        });
      }
      if (outcome.kind === 'sent') {
        if (decision.result.status !== 'sent') throw new Error('a sent outcome must record a sent contact');
        const recorded = await store.recordSent(claimed, decision.result, {
          id: outcome.messageId,
          tenantId: queue.tenantId,
          phone: claimed.phone,
          instanceId: instance.id,
          direction: 'outbound',
          text: claimed.renderedMessage,
          at: doneAt.toISOString(),
          queueId: queue.id,
          contactPosition: claimed.position,
          campaignId: queue.campaignId,
          externalId: queue.externalId,
          templateType: queue.templateType,
        });
        if (recorded) addDeltas(decision.deltas);
        else
          log.warn('a send was recorded after its claim had been settled by another pump', {
            position: claimed.position,
          });
      } else {
        log.warn('send attempt did not succeed', {
          phone: maskPhone(claimed.phone),
          outcome: outcome.kind,
          reason: outcome.reason,
          attempts: claimed.attempts,
        });
        if (
          await store.finishContact(
            queue.id,
            claimed.position,
            decision.result,
            claimed.claimedAt ?? undefined,
          )
        )
          addDeltas(decision.deltas);
      }
      const event = eventOf(decision.result);
      if (event) {
        await deps.events.emit({
          name: event,
          queueId: queue.id,
          contactPosition: claimed.position,
          occurredAt: doneAt.toISOString(),
          providerMessageId: outcome.kind === 'sent' ? outcome.messageId : null,
          error:
            decision.result.status === 'failed'
              ? { code: errorCodeOf(outcome), message: decision.result.error }
              : null,
        });
      }
      if (transientInARow >= TRANSIENT_FAILURES_BEFORE_CHECK) {
        const state = await checkInstance(deps, queue, instance, target);
        if (state !== 'open') {
          await flushOnExit();
          return markInstanceDown(deps, queue, state);
        }
        transientInARow = 0;
      }
    }
  } finally {
    // Lost counters would make the status lie: write them on every way out, errors included.
    await flushOnExit().catch((error: unknown) => log.error('could not write the last counters', { error }));
    const lastSend = lastSendAt ? new Date(lastSendAt).toISOString() : null;
    await store.releaseInstanceLease(queue.tenantId, instance.id, owner, lastSend, queue.id);
  }
};

/**
 * A conditional status change that also feeds the active-queues gauge. `queue` is the queue as
 * last read: its status is what the gauge leaves.
 */
export const transitionWithMetrics = async (
  deps: Pick<PumpDeps, 'metrics'> & { store: SendingStore },
  queue: BillingQueue,
  from: readonly BillingQueue['status'][],
  to: BillingQueue['status'],
  fields?: QueueRunFields,
): Promise<BillingQueue | undefined> => {
  const moved = await deps.store.transitionQueue(queue.id, from, to, fields);
  if (moved && queue.status !== to) {
    deps.metrics.queueStatusChanged({ tenantId: queue.tenantId, queueId: queue.id, from: queue.status, to });
  }
  return moved;
};

/**
 * Sets the counters the sender owns to what the contacts say (a strongly consistent read of the
 * queue's contacts, or the one the caller just made): a counter write lost in a crash cannot leave
 * the status lying. Receipt counters (delivered, read, replied) belong to the webhooks.
 */
const recountCounters = async (
  deps: Pick<PumpDeps, 'store'>,
  queue: BillingQueue,
  summary?: ContactSummary,
): Promise<BillingQueue | undefined> => {
  const { byStatus, failedAfterSend } = summary ?? (await deps.store.summarizeContacts(queue.id));
  const n = (status: keyof typeof byStatus) => byStatus[status] ?? 0;
  const exact: Partial<Record<QueueCounter, number>> = {
    contactsSent: n('sent') + n('delivered') + n('read') + failedAfterSend,
    contactsFailed: n('failed'),
    contactsPendingRetry: n('retry'),
    contactsCancelled: n('cancelled'),
    contactsUnknown: n('unknown'),
    contactsSkipped: n('skipped_opt_out'),
  };
  const current = (await deps.store.getQueue(queue.id)) ?? queue;
  const deltas: Partial<Record<QueueCounter, number>> = {};
  for (const [name, value] of Object.entries(exact) as Array<[QueueCounter, number]>) {
    if (current[name] !== value) deltas[name] = value - current[name];
  }
  return Object.keys(deltas).length ? deps.store.updateQueueProgress(queue.id, deltas) : current;
};

/** Messages per minute over the recent sends (0 until there are two). */
const measuredRate = (sends: readonly number[]): number => {
  if (sends.length < 2) return 0;
  // biome-ignore lint/style/noNonNullAssertion: length checked
  const span = sends[sends.length - 1]! - sends[0]!;
  return span > 0 ? Math.round(((sends.length - 1) * 60_000 * 100) / span) / 100 : 0;
};

/**
 * Nothing claimable now: done, or wait for what is left. Decided from a strongly consistent read
 * of every contact, never from an index (an index can still show a contact as it was before its
 * last write: a queue would complete while a contact waits in `retry`). The queue is finished only
 * when no contact is `pending`, `retry` or `sending`; claims older than a send can take are settled
 * here; otherwise the pump waits (here when it fits the budget, else via the scheduler) for the
 * earliest retry or for a young claim to come back or age out.
 */
const finishOrWait = async (
  deps: PumpDeps,
  queue: BillingQueue,
  tenant: Tenant,
  budgetEnd: number,
  options: PumpOptions,
): Promise<'wait' | PumpResult> => {
  const summary = await deps.store.summarizeContacts(queue.id);
  if ((await settleAbandonedClaims(deps, queue, tenant, summary.sending, options)) > 0) return 'wait';
  const n = (status: ContactStatus) => summary.byStatus[status] ?? 0;
  if (n('pending') + n('retry') + n('sending') === 0) {
    // The final counters are exact whatever happened on the way (crashes between writes).
    queue = (await recountCounters(deps, queue, summary)) ?? queue;
    const completedAt = deps.clock.now().toISOString();
    const completed = await transitionWithMetrics(deps, queue, ['running'], 'completed', { completedAt });
    if (!completed) return 'stopped';
    await deps.events.emit({
      name: 'queue.completed',
      queueId: queue.id,
      contactPosition: null,
      occurredAt: completedAt,
    });
    return 'completed';
  }
  const now = deps.clock.now().getTime();
  const wakeAt = Math.min(
    summary.earliestRetryAt ? new Date(summary.earliestRetryAt).getTime() : Number.POSITIVE_INFINITY,
    // A young claim (a pump that may still be sending it) is taken for abandoned once it ages out.
    ...summary.sending.map((c) => claimTime(c) + abandonAfterMs(options)),
    // A pending contact the last listing missed: look again shortly.
    n('pending') > 0 ? now + 1000 : Number.POSITIVE_INFINITY,
  );
  const retryAt = new Date(Math.max(wakeAt, now)).toISOString();
  if (wakeAt < budgetEnd) {
    // Tell the sweeper this pump is alive and waiting, not dead.
    await deps.store.updateQueueProgress(queue.id, {}, { nextRunAt: retryAt });
    await deps.sleep(Math.max(0, wakeAt - now));
    return 'wait';
  }
  // The next retry is beyond this run: hand it to the scheduler instead of sleeping.
  const at = new Date(retryAt);
  await deps.store.updateQueueProgress(queue.id, {}, { nextRunAt: at.toISOString() });
  const generation = await deps.store.nextPublishGeneration(queue.id);
  await scheduleOrLeaveToSweeper(deps, resumeScheduleName(queue.id, at), at, workItemOf(queue, generation));
  return 'scheduled';
};

/** How old a claim must be before its send has surely ended (the pump that made it is gone). */
const abandonAfterMs = (options: PumpOptions): number => options.gatewayTimeoutMs + CLAIM_MARGIN_MS;

/**
 * The lease a pump takes: the configured length, but never shorter than a send can take plus a
 * margin, so a lease renewed at a claim always outlives that claim's gateway call.
 */
const leaseLengthMs = (options: PumpOptions): number =>
  Math.max(options.leaseMs, abandonAfterMs(options) + CLAIM_MARGIN_MS);

const claimTime = (contact: BillingContact): number =>
  contact.claimedAt ? new Date(contact.claimedAt).getTime() : 0;

/**
 * Contacts a dead pump left in `sending`: the gateway may or may not have sent them, so the
 * tenant's ambiguous-send policy decides (never a blind resend under `mark_unknown`). Only claims
 * older than a send can take count: a younger one may belong to a pump still waiting on the
 * gateway. Each settle is conditional on that very claim. Returns how many were settled.
 */
const settleAbandonedClaims = async (
  deps: PumpDeps,
  queue: BillingQueue,
  tenant: Tenant,
  sending: readonly BillingContact[],
  options: PumpOptions,
): Promise<number> => {
  let settled = 0;
  for (const contact of sending) {
    const now = deps.clock.now();
    if (now.getTime() - claimTime(contact) < abandonAfterMs(options)) continue;
    const decision = decideAfterAttempt(
      { kind: 'unknown', reason: 'envio interrompido (processo parou durante o envio)' },
      contact.attempts,
      false,
      tenant.config,
      now,
    );
    if (
      await deps.store.finishContact(
        queue.id,
        contact.position,
        decision.result,
        contact.claimedAt ?? undefined,
      )
    ) {
      await deps.store.updateQueueProgress(queue.id, decision.deltas);
      settled += 1;
    }
  }
  return settled;
};

/**
 * The instance this run sends through: the queue's own while it is active, else the tenant's
 * oldest active one (a batch accepted while the tenant had none, or whose instance was
 * deactivated, is not parked for good). undefined when the tenant has no active instance.
 */
const instanceForRun = async (
  deps: Pick<PumpDeps, 'store'>,
  queue: BillingQueue,
): Promise<WhatsAppInstance | undefined> => {
  const own = queue.instanceId ? await deps.store.getInstance(queue.tenantId, queue.instanceId) : undefined;
  if (own?.isActive) return own;
  const active = (await deps.store.listInstances(queue.tenantId)).filter((i) => i.isActive);
  active.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return active[0];
};

/** Reads the instance's connection state from the gateway and remembers it on the instance. */
const checkInstance = async (
  deps: PumpDeps,
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

/**
 * The instance is not `open`: the queue waits in `instance_down` (nothing is sent, nothing lost)
 * and re-checks itself with backoff; it resumes by itself when the instance is back (or on a
 * `connection.update` webhook, or a resume).
 */
const markInstanceDown = (deps: PumpDeps, queue: BillingQueue, state: GatewayConnectionState) =>
  parkUntilRecheck(deps, queue, `Instância WhatsApp desconectada (estado: ${state})`);

/**
 * No way to send now (the instance is down, or the tenant has none active): `instance_down` with
 * the reason in Portuguese, and a re-check scheduled after 1, 2, 5, 10, then every 15 minutes, so
 * the queue starts by itself once it can (adding or reactivating an instance also wakes it).
 */
const parkUntilRecheck = async (deps: PumpDeps, queue: BillingQueue, reason: string): Promise<PumpResult> => {
  const now = deps.clock.now();
  const downSince = queue.status === 'instance_down' && queue.pausedAt ? new Date(queue.pausedAt) : now;
  const elapsedMinutes = (now.getTime() - downSince.getTime()) / 60_000;
  // Cumulative checkpoints 1, 3, 8, 18 min...: the first one not yet reached picks the next delay.
  let passed = 0;
  let delay = RECHECK_MINUTES[RECHECK_MINUTES.length - 1] as number;
  for (const minutes of RECHECK_MINUTES) {
    passed += minutes;
    if (elapsedMinutes < passed) {
      delay = minutes;
      break;
    }
  }
  const at = new Date(now.getTime() + delay * 60_000);
  const down = await transitionWithMetrics(
    deps,
    queue,
    ['pending', 'scheduled', 'running', 'instance_down'],
    'instance_down',
    {
      pausedAt: downSince.toISOString(),
      pauseReason: `${reason}; nova verificação em ${delay} min`,
      nextRunAt: at.toISOString(),
    },
  );
  if (!down) return 'stopped';
  const generation = await deps.store.nextPublishGeneration(queue.id);
  await scheduleOrLeaveToSweeper(
    deps,
    `recheck-${queue.id}-${at.getTime()}`,
    at,
    workItemOf(queue, generation),
  );
  return 'instance_down';
};

/** The callback event of an attempt's result: only final results are news for the ERP. */
const eventOf = (result: ContactSendResult): 'sent' | 'failed' | undefined =>
  result.status === 'sent' ? 'sent' : result.status === 'failed' ? 'failed' : undefined;

/** A stable code for a failed send, from the gateway's classification. */
const errorCodeOf = (outcome: SendOutcome): string =>
  outcome.kind === 'permanent'
    ? /whatsapp|exists/i.test(outcome.reason)
      ? 'NOT_ON_WHATSAPP'
      : 'GATEWAY_REJECTED'
    : outcome.kind === 'transient'
      ? 'RETRIES_EXHAUSTED'
      : 'UNKNOWN_OUTCOME';

/**
 * Takes the instance for this queue's turn (its lease: one pump per instance), or puts the item
 * at the back of the line. Queues on one instance take turns: having just had its turn, a queue
 * lets a waiting one go first. (On SQS the FIFO message group already orders them; RabbitMQ has
 * no groups, hence the waiter noted on the lease.)
 */
const takeTurn = async (
  deps: PumpDeps,
  queue: BillingQueue,
  instanceId: string,
  owner: string,
  now: Date,
  leaseUntil: string,
): Promise<{ lastSendAt: number } | 'continued'> => {
  const { store } = deps;
  const lease = await store.acquireInstanceLease(
    queue.tenantId,
    instanceId,
    owner,
    now.toISOString(),
    leaseUntil,
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
      await store.releaseInstanceLease(queue.tenantId, instanceId, owner, lease.lastSendAt, queue.id);
    // The short wait keeps a broker without message groups from spinning the item.
    await store.noteInstanceWaiter(queue.tenantId, instanceId, queue.id, now.toISOString());
    await deps.sleep(LEASE_BUSY_WAIT_MS);
    await publishContinuation(deps, queue);
    return 'continued';
  }
  if (lease.waiter?.queueId === queue.id)
    await store.noteInstanceWaiter(queue.tenantId, instanceId, queue.id, null);
  return { lastSendAt: lease.lastSendAt ? new Date(lease.lastSendAt).getTime() : 0 };
};

export const workItemOf = (queue: BillingQueue, generation: number): WorkItem => ({
  queueId: queue.id,
  tenantId: queue.tenantId,
  instanceId: queue.instanceId ?? 'none',
  generation,
});

/**
 * Publishes the queue's work item again (a new generation, so FIFO deduplication lets it through).
 * A work queue that is down does not fail the caller: the queue stays open in the due index and
 * the sweeper publishes it (fallback-to-sweeper.ts).
 */
export const publishContinuation = async (
  deps: Pick<PumpDeps, 'workQueue' | 'logger' | 'metrics'> & { store: SendingStore },
  queue: BillingQueue,
): Promise<void> => {
  const generation = await deps.store.nextPublishGeneration(queue.id);
  await publishOrLeaveToSweeper(deps, workItemOf(queue, generation));
};

/** Outside business hours: `scheduled` until the next opening (plus a small jitter), via the scheduler. */
const deferToOpening = async (
  deps: PumpDeps,
  queue: BillingQueue,
  calendar: BusinessCalendar,
  now: Date,
): Promise<PumpResult> => {
  // Up to a minute of jitter so tenants with the same hours do not all start on the same second.
  const at = new Date(nextOpening(calendar, now).getTime() + Math.floor(deps.random() * 60_000));
  const scheduled = await transitionWithMetrics(
    deps,
    queue,
    ['pending', 'running', 'instance_down', 'scheduled'],
    'scheduled',
    {
      nextRunAt: at.toISOString(),
    },
  );
  if (!scheduled) return 'stopped';
  const generation = await deps.store.nextPublishGeneration(queue.id);
  await scheduleOrLeaveToSweeper(deps, resumeScheduleName(queue.id, at), at, workItemOf(queue, generation), {
    // EventBridge writes the opening in the tenant's own clock time.
    timezone: calendar.timezone,
  });
  return 'scheduled';
};
