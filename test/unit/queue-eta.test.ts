import { describe, expect, it } from 'vitest';
import {
  createTakingTurnsMemo,
  type EtaContext,
  etaContextOf,
  queueEtaOf,
  type SharingQueue,
  TAKING_TURNS_TTL_MS,
} from '../../lib/app/queue-eta.ts';
import { DEFAULT_BILLING_CONFIG } from '../../lib/domain/billing-config.ts';
import { newBillingQueue } from '../../lib/domain/billing-queue.ts';
import type { BillingQueue } from '../../lib/domain/types.ts';
import { seededDeps } from '../support/use-case-deps.ts';

const NOW = new Date('2026-12-07T10:00:00.000Z');
const MINUTE = 60_000;
/** One reminder a minute. */
const CONFIG = { ...DEFAULT_BILLING_CONFIG, messagesPerMinute: 1, minIntervalSeconds: 0, jitterSeconds: 0 };
const at = (minutes: number) => new Date(NOW.getTime() + minutes * MINUTE);

/** A notification queue (24/7) on instance `inst-1` with `count` contacts, starting at `startsIn` minutes. */
const queue = (id: string, count: number, startsIn: number, fields: Partial<BillingQueue> = {}) =>
  newBillingQueue({
    id,
    tenantId: 'acme',
    campaignId: `camp-${id}`,
    externalId: id,
    templateType: 'notification',
    instanceId: 'inst-1',
    totalContacts: count,
    createdAt: NOW.toISOString(),
    status: 'scheduled',
    nextRunAt: at(startsIn).toISOString(),
    ...fields,
  });

/** Another queue on the instance, sending alone from `startsIn` minutes, one a minute. */
const sharing = (id: string, remaining: number, startsIn: number): SharingQueue => ({
  id,
  remaining,
  alone: { start: at(startsIn), end: at(startsIn + remaining - 1) },
});

const contextWith = (...others: SharingQueue[]): EtaContext => ({
  calendar: undefined,
  sendCaps: new Map(),
  sharing: new Map([['inst-1', others]]),
});

describe('queueEtaOf', () => {
  it('counts the turns of the queues whose sending overlaps, as many of theirs as it has at most', () => {
    // Prepare: 10 from minute 0; one of 30 from minute 5 overlaps (10 of its 30 count), one of 2 too
    const q = queue('q', 10, 0);
    const context = contextWith(sharing('q', 10, 0), sharing('long', 30, 5), sharing('short', 2, 3));

    // Act
    const eta = queueEtaOf(q, CONFIG, NOW, context);

    // Assess: 10 + 10 + 2 sends, the last 21 minutes after the first
    expect(eta).toBe(at(21).toISOString());
  });

  it('leaves out a queue done before it starts and one that starts after it would be done', () => {
    // Prepare: 10 from minute 20 (done alone at 29); one done at minute 13, one starting at minute 30
    const q = queue('q', 10, 20);
    const context = contextWith(sharing('before', 4, 10), sharing('after', 5, 30));

    // Act
    const eta = queueEtaOf(q, CONFIG, NOW, context);

    // Assess
    expect(eta).toBe(at(29).toISOString());
  });

  it('has none for a paused, finished or empty queue', () => {
    const context = contextWith(sharing('other', 5, 0));
    const sent = { contactsSent: 3 };

    expect(queueEtaOf(queue('p', 3, 0, { status: 'paused' }), CONFIG, NOW, context)).toBeNull();
    expect(queueEtaOf(queue('c', 3, 0, { status: 'completed', ...sent }), CONFIG, NOW, context)).toBeNull();
    expect(queueEtaOf(queue('e', 3, 0, { status: 'running', ...sent }), CONFIG, NOW, context)).toBeNull();
  });
});

describe('etaContextOf', () => {
  /** The ids of the queues the context has taking turns on the seeded instance. */
  const sharingIds = (context: EtaContext) => (context.sharing.get('inst-1') ?? []).map((q) => q.id).sort();

  it('lists the queues taking turns once per period when the process remembers them', async () => {
    // Prepare: two open queues on the tenant's instance, and a process that remembers listings
    const { deps, tenant } = await seededDeps();
    const open = (id: string) =>
      queue(id, 5, 0, { status: 'pending', nextRunAt: null, createdAt: deps.clock.now().toISOString() });
    await deps.store.createQueue(open('a'));
    await deps.store.createQueue(open('b'));
    const remembering = { ...deps, takingTurns: createTakingTurnsMemo(deps.clock) };
    const asked = [open('a')];

    // Act: a's context, then again after a third queue arrives, then once the period is over
    const first = await etaContextOf(remembering, tenant, asked, deps.clock.now());
    await deps.store.createQueue(open('c'));
    const within = await etaContextOf(remembering, tenant, asked, deps.clock.now());
    const fresh = await etaContextOf(deps, tenant, asked, deps.clock.now());
    deps.clock.set(new Date(deps.clock.now().getTime() + TAKING_TURNS_TTL_MS).toISOString());
    const after = await etaContextOf(remembering, tenant, asked, deps.clock.now());

    // Assess: the remembered listing until the period ends; without the memory, always afresh
    expect(sharingIds(first)).toEqual(['a', 'b']);
    expect(sharingIds(within)).toEqual(['a', 'b']);
    expect(sharingIds(fresh)).toEqual(['a', 'b', 'c']);
    expect(sharingIds(after)).toEqual(['a', 'b', 'c']);
  });
});
