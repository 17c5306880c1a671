import { CALLBACK_SIGNATURE_HEADER, signCallback } from '../domain/callback-signature.ts';
import type { Logger } from '../observability/logger.ts';
import type { CallbackClient, CallbackResponse } from '../ports/callback-client.ts';
import type { CallbackRef } from '../ports/callback-queue.ts';
import type { CallbackUrlGuard } from '../ports/callback-url-guard.ts';
import type { Clock } from '../ports/clock.ts';
import type { CallbackAttemptResult, CallbackPayload, Store, StoredCallbackEvent } from '../ports/store.ts';
import { forEachBounded } from './bounded.ts';
import { createExpiringMemo } from './expiring-memo.ts';

/**
 * Waits after failed attempts 1, 2, ...: about 24 hours in all, then the event is `dead`.
 * 12 attempts: the first at once, then after 30 s, 1, 2, 5, 10, 30 min, 1, 2, 4, 8 and 8 h.
 */
export const CALLBACK_RETRY_DELAYS_MS: readonly number[] = [
  30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000,
  28_800_000,
];

/** A claim holds an attempt this long: longer than any post (5 s timeout), so no two deliverers post it at once. */
export const CALLBACK_CLAIM_LEASE_MS = 30_000;

export const CALLBACK_USER_AGENT = 'billing-reminders/1';

/**
 * How long a deliverer trusts what it read of a tenant (are insecure callback URLs allowed) and of
 * an API key (its signing secrets): a warm callback sender reads each once per this period, so a
 * changed setting, a rotated secret or a dropped old one takes effect within it. The callback URL
 * is the event's own (set at accept) and is re-checked against DNS at every attempt.
 */
export const CALLBACK_SETTINGS_TTL_MS = 60_000;

/** Tenants and keys remembered at once; beyond that the memory starts over (bounded in a warm container). */
const CALLBACK_SETTINGS_LIMIT = 1_000;

export interface DeliverCallbacksDeps {
  store: Pick<
    Store,
    'listDueCallbacks' | 'claimCallback' | 'finishCallbackAttempt' | 'getApiKeyById' | 'getTenant'
  >;
  clock: Clock;
  callbackClient: CallbackClient;
  callbackUrlGuard: CallbackUrlGuard;
  logger: Pick<Logger, 'warn'>;
}

export interface DeliverCallbacksOptions {
  /** Due events read per round (default 50). */
  batchSize?: number;
  /** Posts in flight at once (default 10). */
  concurrency?: number;
  /** Rounds per run (default 20): one run never drains an unbounded backlog. */
  maxRounds?: number;
}

export interface DeliverCallbacksSummary {
  /** Attempts this run started (claims won). */
  attempted: number;
  delivered: number;
  /** Failed attempts that will be tried again. */
  retried: number;
  /** Failed attempts that were the last one. */
  dead: number;
}

/** After failed attempt number `attempts`: when to try again, or `dead` when the schedule is spent. */
export const nextCallbackAttempt = (
  attempts: number,
  failedAt: Date,
): { status: 'pending'; nextAttemptAt: string } | { status: 'dead' } => {
  const delay = CALLBACK_RETRY_DELAYS_MS[attempts - 1];
  return delay === undefined
    ? { status: 'dead' }
    : { status: 'pending', nextAttemptAt: new Date(failedAt.getTime() + delay).toISOString() };
};

/** The posted JSON, fields in a fixed order (a stored map's order is not kept by DynamoDB). */
export const callbackBody = (p: CallbackPayload): string =>
  JSON.stringify({
    event_id: p.event_id,
    event: p.event,
    occurred_at: p.occurred_at,
    external_id: p.external_id,
    billing_campaign_id: p.billing_campaign_id,
    queue_id: p.queue_id,
    contact: p.contact
      ? {
          telefone: p.contact.telefone,
          nome_cliente: p.contact.nome_cliente,
          numero_fatura: p.contact.numero_fatura,
        }
      : null,
    message_id: p.message_id,
    error: p.error ? { code: p.error.code, message: p.error.message } : null,
    reply: p.reply ? { text: p.reply.text, intent: p.reply.intent } : null,
    ...(p.cancel_reason ? { cancel_reason: p.cancel_reason } : {}),
  });

/** A store that can run attempts (no due-index reads): what the queue consumer needs. */
export type AttemptCallbacksDeps = Omit<DeliverCallbacksDeps, 'store'> & {
  store: Pick<Store, 'claimCallback' | 'finishCallbackAttempt' | 'getApiKeyById' | 'getTenant'>;
};

/**
 * What one claim-and-post came to: `not-due` when the claim was not won (delivered already, dead,
 * or held by another deliverer's lease, or its next attempt is later); `unrecorded` when the post
 * happened but the claim had been lost meanwhile, so its result was not written.
 */
export type CallbackAttemptOutcome = 'not-due' | 'delivered' | 'retried' | 'dead' | 'unrecorded';

/**
 * The one attempt logic of the poller and the queue consumer: claim (conditional: still pending
 * and due; moves its next attempt a lease ahead), re-check the URL (DNS rebinding), sign with every
 * current secret of the campaign's API key, post (the client connects only to checked addresses),
 * record the result. Tenants' and keys' settings are read at most once per CALLBACK_SETTINGS_TTL_MS
 * per attempter (one poller run, or a warm callback sender's container).
 */
const createCallbackAttempter = (deps: AttemptCallbacksDeps) => {
  const insecureByTenant = createExpiringMemo<boolean>(
    deps.clock,
    CALLBACK_SETTINGS_TTL_MS,
    CALLBACK_SETTINGS_LIMIT,
  );
  const secretsByKey = createExpiringMemo<string[]>(
    deps.clock,
    CALLBACK_SETTINGS_TTL_MS,
    CALLBACK_SETTINGS_LIMIT,
  );

  const allowInsecure = (tenantId: string) =>
    insecureByTenant(tenantId, () =>
      deps.store.getTenant(tenantId).then((t) => t?.config.allowInsecureCallbacks ?? false),
    );
  const secretsOf = (tenantId: string, keyId: string) =>
    secretsByKey(`${tenantId}/${keyId}`, () =>
      deps.store.getApiKeyById(tenantId, keyId).then((k) => (k?.signingSecrets ?? []).filter(Boolean)),
    );

  const post = async (event: StoredCallbackEvent): Promise<CallbackResponse> => {
    if (!event.callbackUrl) return { ok: false, error: 'no callback URL' };
    const insecure = await allowInsecure(event.tenantId);
    const checked = await deps.callbackUrlGuard.check(event.callbackUrl, { allowInsecure: insecure });
    if (!checked.ok) return { ok: false, error: checked.error.message };
    const secrets = await secretsOf(event.tenantId, event.apiKeyId);
    if (secrets.length === 0) return { ok: false, error: 'the API key has no signing secret' };
    const body = callbackBody(event.payload);
    const timestamp = Math.floor(deps.clock.now().getTime() / 1000);
    return deps.callbackClient.post({
      url: checked.value.toString(),
      body,
      allowInsecure: insecure,
      headers: {
        'Content-Type': 'application/json',
        [CALLBACK_SIGNATURE_HEADER]: signCallback(secrets, body, timestamp),
        'X-Billing-Event-Id': event.eventId,
        'User-Agent': CALLBACK_USER_AGENT,
      },
    });
  };

  return async (ref: CallbackRef, now: Date): Promise<CallbackAttemptOutcome> => {
    const leaseUntil = new Date(now.getTime() + CALLBACK_CLAIM_LEASE_MS).toISOString();
    // An announcement carries its event (CallbackRef.stored): stored from it when its emitter died
    // between announcing and storing it, or has not stored it yet.
    const carried = ref.stored;
    const claimed = await deps.store.claimCallback(
      ref.queueId,
      ref.eventId,
      now.toISOString(),
      leaseUntil,
      carried?.event.eventId === ref.eventId && carried.event.queueId === ref.queueId ? carried : undefined,
    );
    if (!claimed) return 'not-due';
    const attemptNumber = claimed.delivery.attempts;
    const response = await post(claimed).catch(
      (error: unknown): CallbackResponse => ({ ok: false, error: (error as Error).message }),
    );
    const result = attemptResult(response, attemptNumber, deps.clock.now());
    const recorded = await deps.store.finishCallbackAttempt(
      claimed.queueId,
      claimed.eventId,
      attemptNumber,
      result,
      carried?.expiresAt,
    );
    if (!recorded) return 'unrecorded';
    if (result.status === 'delivered') return 'delivered';
    if (result.status === 'pending') return 'retried';
    deps.logger.warn('callback dead after its last attempt', {
      eventId: claimed.eventId,
      tenantId: claimed.tenantId,
      attempts: attemptNumber,
      lastError: result.error,
    });
    return 'dead';
  };
};

/** What attempt `attemptNumber` answered at `at` makes of the event: delivered, retried later, or dead. */
const attemptResult = (
  response: CallbackResponse,
  attemptNumber: number,
  at: Date,
): CallbackAttemptResult => {
  if (response.ok) return { status: 'delivered', at: at.toISOString() };
  const next = nextCallbackAttempt(attemptNumber, at);
  return next.status === 'dead'
    ? { status: 'dead', at: at.toISOString(), error: response.error }
    : { status: 'pending', at: at.toISOString(), error: response.error, nextAttemptAt: next.nextAttemptAt };
};

/** Adds one attempt's outcome to a run's summary. */
const tally = (summary: DeliverCallbacksSummary, outcome: CallbackAttemptOutcome) => {
  if (outcome === 'not-due') return;
  summary.attempted += 1;
  if (outcome === 'delivered') summary.delivered += 1;
  else if (outcome === 'retried') summary.retried += 1;
  else if (outcome === 'dead') summary.dead += 1;
};

/**
 * Delivers the callbacks that are due (design section 5, Callbacks to the ERP); the safety net
 * behind the callbacks queue, and the retry path of every failed attempt:
 * 1. list pending events due by now (the due index; candidates only);
 * 2. claim each and attempt it (createCallbackAttempter: claim, check, sign, post);
 * 3. record the result: delivered, or the next attempt by the backoff schedule, or `dead`.
 * A claim lost to an expired lease records nothing (the attempt number is its token).
 */
export const deliverDueCallbacks = async (
  deps: DeliverCallbacksDeps,
  options: DeliverCallbacksOptions = {},
): Promise<DeliverCallbacksSummary> => {
  const batchSize = options.batchSize ?? 50;
  const concurrency = options.concurrency ?? 10;
  const maxRounds = options.maxRounds ?? 20;
  const summary: DeliverCallbacksSummary = { attempted: 0, delivered: 0, retried: 0, dead: 0 };
  const attempt = createCallbackAttempter(deps);

  for (let round = 0; round < maxRounds; round++) {
    const now = deps.clock.now();
    const due = await deps.store.listDueCallbacks(now.toISOString(), batchSize);
    let won = 0;
    await forEachBounded(due, concurrency, async (event) => {
      const outcome = await attempt(event, now);
      tally(summary, outcome);
      if (outcome !== 'not-due') won += 1;
    });
    // A short page means the backlog is drained; no claim won means the index only lags behind.
    if (due.length < batchSize || won === 0) break;
  }
  return summary;
};

/**
 * Delivers one event now, as the callbacks queue asks (functions/callback-sender.ts): the same
 * claim and attempt as the poller, so the two never post the same attempt twice. An event that is
 * not due (already delivered, or in another deliverer's hands) is `not-due` and nothing is posted;
 * a failed post is recorded with its next attempt, which the poller makes. Build one per warm
 * container: it remembers tenants' and keys' settings for CALLBACK_SETTINGS_TTL_MS.
 */
export const createCallbackSender = (
  deps: CallbackSenderDeps,
): ((ref: CallbackRef) => Promise<CallbackAttemptOutcome>) => {
  const attempt = createCallbackAttempter(deps);
  return async (ref) => {
    const now = deps.clock.now();
    const outcome = await attempt(ref, now);
    // A lost claim costs one read more: only a duplicate announcement, or a re-emission, loses one.
    if (
      outcome === 'not-due' &&
      isFirstAttemptInFlight(await deps.store.getCallbackEvent(ref.queueId, ref.eventId), now)
    )
      throw new FirstAttemptInFlightError(ref.eventId);
    return outcome;
  };
};

/** What the callbacks queue's consumer needs: attempts, and a look at an event whose claim it lost. */
export type CallbackSenderDeps = AttemptCallbacksDeps & { store: Pick<Store, 'getCallbackEvent'> };

/**
 * Another copy of this announcement holds the event's first attempt (an SQS standard queue may
 * deliver a message twice; a re-emission publishes it again). Acknowledging this copy would leave
 * the attempt with nothing behind it if its holder died mid-post (a first attempt is in no due
 * index: its message is what brings it back, and the copy's acknowledgement deletes it), so the
 * record fails and comes back after the visibility timeout, past the claim's lease: by then the
 * attempt is recorded (the copy is acknowledged) or its lease has ended (the copy makes it).
 */
export class FirstAttemptInFlightError extends Error {
  constructor(eventId: string) {
    super(`callback ${eventId}: its first attempt is in flight elsewhere; this copy comes back later`);
    this.name = 'FirstAttemptInFlightError';
  }
}

/** Claimed once, no result recorded, and the claim's lease still running. */
const isFirstAttemptInFlight = (event: StoredCallbackEvent | undefined, now: Date): boolean => {
  const delivery = event?.delivery;
  return (
    delivery?.status === 'pending' &&
    delivery.attempts === 1 &&
    delivery.lastAttemptAt === null &&
    delivery.nextAttemptAt !== null &&
    delivery.nextAttemptAt > now.toISOString()
  );
};

/** One event now, with nothing remembered from earlier events (see createCallbackSender). */
export const deliverCallback = (
  deps: CallbackSenderDeps,
  ref: CallbackRef,
): Promise<CallbackAttemptOutcome> => createCallbackSender(deps)(ref);
