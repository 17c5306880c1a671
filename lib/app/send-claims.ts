import { figuresOfCounterDeltas } from '../domain/activity-figures.ts';
import { contactExpiry } from '../domain/retention.ts';
import { decideAfterAttempt } from '../domain/send-outcome.ts';
import type { Tenant } from '../domain/tenant-types.ts';
import type { BillingContact, BillingQueue } from '../domain/types.ts';
import type { BillingEvents } from '../ports/billing-events.ts';
import type { Clock } from '../ports/clock.ts';
import type { CounterStore, SendingStore } from '../ports/store.ts';
import { attemptEvent } from './send-attempt.ts';
import { countTenantFigures } from './tenant-figures.ts';

/**
 * Slack on top of the gateway timeout: the lease must outlast a send by this much, and a claim is
 * taken for abandoned only this long after its send must have ended.
 */
export const CLAIM_MARGIN_MS = 5_000;

/**
 * How old a claim must be before its send has surely ended (the pump that made it is gone).
 * `gatewayTimeoutMs` is the gateway client's timeout: the longest a send can take.
 */
export const abandonAfterMs = (options: { gatewayTimeoutMs: number }): number =>
  options.gatewayTimeoutMs + CLAIM_MARGIN_MS;

/** When a contact was claimed (ms; 0 when it never was). */
export const claimTime = (contact: BillingContact): number =>
  contact.claimedAt ? new Date(contact.claimedAt).getTime() : 0;

/**
 * Contacts a dead pump left in `sending`: the gateway may or may not have sent them, so the
 * tenant's ambiguous-send policy decides (never a blind resend under `mark_unknown`). Only claims
 * older than a send can take count: a younger one may belong to a pump still waiting on the
 * gateway. Each settle is conditional on that very claim, and only one that succeeded counts (the
 * queue counters, and the tenant's figures when it failed: a rare path, one write each). A contact
 * that ends `unknown` (`mark_unknown`) or `failed` (its tries used up under `retry`) gets that
 * event, as an attempt's result does. Returns how many were settled.
 */
export const settleAbandonedClaims = async (
  deps: { store: SendingStore & CounterStore; clock: Clock; events: BillingEvents },
  queue: BillingQueue,
  tenant: Tenant,
  sending: readonly BillingContact[],
  options: { gatewayTimeoutMs: number },
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
        contactExpiry(decision.result, tenant.config.retentionDays),
        contact.claimedAt ?? undefined,
      )
    ) {
      await deps.store.addToQueueCounters(queue.id, decision.deltas);
      await countTenantFigures(deps, queue.tenantId, now, figuresOfCounterDeltas(decision.deltas));
      const event = attemptEvent(queue.id, contact.position, decision.result, contact);
      if (event) await deps.events.emit(event);
      settled += 1;
    }
  }
  return settled;
};
