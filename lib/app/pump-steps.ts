import { maskPhone } from '../domain/phone.ts';
import { retentionEnd } from '../domain/retention.ts';
import { decideAfterAttempt } from '../domain/send-outcome.ts';
import type { BillingContact, QueueCounter } from '../domain/types.ts';
import type { WaitingStatus } from '../ports/store.ts';
import type { SendOutcome } from '../ports/whatsapp-gateway.ts';
import type { Run } from './run-queue.ts';
import { recordAttempt } from './send-attempt.ts';

/*
 * One contact's steps in a run of the pump (run-queue.ts decides which, and when): waiting for its
 * pacing slot, sending it and recording the attempt, or setting it aside without a send (its phone
 * opted out, or the per-debtor frequency cap defers it).
 */

/**
 * Sleeps until the work before the send due at `sendAt` (status read, claim, opt-out check) should
 * start: that long ahead, as learnt, so it does not stretch every interval. Returns when it started.
 */
export const waitForPreSend = async (run: Run, sendAt: number): Promise<number> => {
  const waitMs = run.pacer.preSendStartAt(sendAt) - run.intervals.now();
  if (waitMs > 0) await run.stoppableSleep(Math.ceil(waitMs));
  return run.intervals.now();
};

/**
 * The phone opted out after the batch was accepted (a SAIR reply, the API): the contact is
 * skipped, never sent. Checked before the claim, so a failure here leaves the contact untouched.
 */
export const skipOptedOut = async (run: Run, contact: BillingContact, at: Date): Promise<void> => {
  const was = await run.deps.store.skipOptedOutContact(
    run.queue.id,
    contact.position,
    at.toISOString(),
    retentionEnd(at, run.tenant.config.retentionDays),
  );
  if (was) run.progress.add({ contactsSkipped: 1, ...leavingWait(was) }, at);
};

/**
 * The phone was reminded too recently (the per-debtor frequency cap): the contact waits in `retry`
 * until `until`, marked deferred, with no attempt spent. Counted in both waiting counters.
 */
export const deferContact = async (
  run: Run,
  contact: BillingContact,
  until: Date,
  at: Date,
): Promise<void> => {
  const was = await run.deps.store.deferContact(
    run.queue.id,
    contact.position,
    until.toISOString(),
    at.toISOString(),
  );
  if (!was) return;
  run.progress.add(
    {
      ...(was === 'pending' ? { contactsPendingRetry: 1 } : {}),
      ...(was === 'deferred' ? {} : { contactsDeferred: 1 }),
    },
    at,
  );
  run.log.info('reminder deferred by the per-debtor frequency cap', {
    position: contact.position,
    phone: maskPhone(contact.phone),
    until: until.toISOString(),
  });
};

/** The waiting counters a contact leaves (a deferred one is counted in both). */
const leavingWait = (was: WaitingStatus): Partial<Record<QueueCounter, number>> =>
  was === 'pending'
    ? {}
    : was === 'retry'
      ? { contactsPendingRetry: -1 }
      : { contactsPendingRetry: -1, contactsDeferred: -1 };

/**
 * Sends a claimed contact on its pacing slot and records the attempt. `wasRetry`: it was waiting
 * in `retry` when claimed.
 */
export const send = async (
  run: Run,
  claimed: BillingContact,
  wasRetry: boolean,
  sendAt: number,
): Promise<SendOutcome> => {
  const { deps, pacer, queue } = run;
  await waitForSlot(run, sendAt);
  // The call is timed where it happens: no await between the reading and the call, so no other
  // work of the process (another pump's continuations under load) can run between them and put
  // the call later than the pace counts it (two calls a millisecond closer than the interval).
  const startedAt = run.intervals.now();
  pacer.noteSendStarted(startedAt, sendAt);
  const call = deps.gateway.sendText(
    run.target,
    claimed.phone.replace(/^\+/, ''),
    claimed.renderedMessage,
    () => run.pacer.noteRequestLeft(run.intervals.now()),
  );
  // The call's own synchronous part (building the request) has run. Should the process have been
  // held up in it (a GC pause, the CPU taken by another process: CI saw a first call 3.4 ms after
  // its reading), the call happened that much later than `startedAt`, and the next paces from then.
  pacer.noteCallIssued(run.intervals.now());
  const outcome = await call;
  const doneAt = deps.clock.now();
  pacer.noteSendEnded(doneAt.getTime(), outcome.kind === 'transient' && outcome.rateLimited);
  // It may have reached the phone: the frequency cap counts it from now, index or not.
  if (outcome.kind === 'sent' || outcome.kind === 'unknown')
    run.caps.noteSent(claimed.phone, doneAt, run.tenant.config);
  const decided = decideAfterAttempt(outcome, claimed.attempts, wasRetry, run.tenant.config, doneAt);
  // A deferred contact also leaves the deferred counter, whatever the attempt's result.
  const decision = claimed.deferred
    ? { ...decided, deltas: { ...decided.deltas, contactsDeferred: -1 } }
    : decided;
  const announced = await recordAttempt(deps, run.log, run.progress, {
    queue,
    instanceId: run.instance.id,
    claimed,
    outcome,
    decision,
    retentionDays: run.tenant.config.retentionDays,
    startedAt,
    doneAt,
  });
  if (announced) run.announced.add(claimed.position);
  return outcome;
};

/**
 * Sleeps until the slot `sendAt`: aimed a little early (timers wake late, as the pacer learns),
 * then the rest on the run's interval clock, so a call is never early.
 */
const waitForSlot = async (run: Run, sendAt: number): Promise<void> => {
  const { pacer, intervals } = run;
  const { sleep } = run.deps;
  const early = sendAt - intervals.now();
  if (early > 0) {
    const aimed = pacer.aimedSleepMs(early);
    const sleptFrom = intervals.now();
    await sleep(aimed);
    pacer.noteSlept(aimed, intervals.now() - sleptFrom);
  }
  await intervals.waitUntil(sendAt, sleep);
};
