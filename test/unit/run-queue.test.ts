import { describe, expect, it } from 'vitest';
import { COUNTERS_FLUSH_EVERY_SENDS } from '../../lib/app/queue-progress.ts';
import { type PumpDeps, runQueue } from '../../lib/app/run-queue.ts';
import type { Store } from '../../lib/ports/store.ts';
import { contacts, OPTIONS, pumpWorld, reminderWorld } from '../support/pump-world.ts';

/** The tenant acme's figures of the pump world's day, summed over its hours. */
const figuresOfTheDay = async (store: Store) => {
  const hours = await store.listTenantFigures(
    'acme',
    new Date('2026-03-02T00:00:00Z'),
    new Date('2026-03-03T00:00:00Z'),
  );
  return { sent: hours.reduce((n, h) => n + h.sent, 0), failed: hours.reduce((n, h) => n + h.failed, 0) };
};

describe('runQueue', () => {
  it('sends every contact once, paced by the tenant, and completes the queue', async () => {
    // Prepare
    const w = await pumpWorld();

    // Act
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect(result).toBe('completed');
    expect(w.sends.map((s) => s.number)).toEqual(contacts(5).map((c) => c.telefone.slice(1)));
    expect(w.sends[0]?.text).toBe('Olá Cliente 0');
    const gaps = w.sends.slice(1).map((s, i) => s.at - (w.sends[i]?.at ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1000);
    expect(await w.base.store.getQueue(w.queueId)).toMatchObject({
      status: 'completed',
      contactsSent: 5,
    });
    expect(w.events.filter((e) => e.name === 'sent')).toHaveLength(5);
  });

  it('paces the next call from the end of a call held up before its request went out (a GC pause, a busy CPU)', async () => {
    // Prepare: the first call is held up 5 ms between the pump's reading of the clock and the call.
    const w = await pumpWorld();
    const gateway = w.deps.gateway;
    let heldUp = false;
    w.deps.gateway = {
      ...gateway,
      sendText: (...args) => {
        if (!heldUp) w.base.clock.set(new Date(w.base.clock.now().getTime() + 5).toISOString());
        heldUp = true;
        return gateway.sendText(...args);
      },
    };

    // Act
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess: 60 a minute, a 1 s floor, no jitter.
    expect(result).toBe('completed');
    const gaps = w.sends.slice(1).map((s, i) => s.at - (w.sends[i]?.at ?? 0));
    expect(gaps).toHaveLength(4);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);
  });

  it('a redelivered work item sends nothing twice', async () => {
    // Prepare
    const w = await pumpWorld();
    await runQueue(w.deps, w.item, OPTIONS);

    // Act
    const again = await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect(again).toBe('skipped');
    expect(w.sends).toHaveLength(5);
  });

  it('fails a contact the gateway refuses for good and retries a transient failure later', async () => {
    // Prepare
    const w = await pumpWorld(['permanent', 'transient'], { retryBackoffSeconds: 5 });

    // Act
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect(result).toBe('completed');
    const listed = (await w.base.store.listContacts(w.queueId, { limit: 10 })).items;
    expect(listed.map((c) => c.status)).toEqual(['failed', 'sent', 'sent', 'sent', 'sent']);
    expect(listed[1]?.attempts).toBe(2);
    expect(w.sends).toHaveLength(6);
  });

  it('never resends a contact whose send may have reached the gateway (unknown outcome)', async () => {
    // Prepare
    const w = await pumpWorld(['unknown']);

    // Act
    await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    const listed = (await w.base.store.listContacts(w.queueId, { limit: 10 })).items;
    expect(w.sends.filter((s) => s.number === listed[0]?.phone.slice(1))).toHaveLength(1);
    expect(listed[0]?.status).not.toBe('sent');
  });

  it('skips a contact whose phone opted out after the batch was accepted', async () => {
    // Prepare
    const w = await pumpWorld();
    const optedOut = contacts(5)[2]?.telefone as string;
    await w.base.store.putOptOut({
      tenantId: 'acme',
      phone: optedOut,
      source: 'api',
      reason: '',
      at: '2026-03-02T13:00:00.000Z',
    });

    // Act
    await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect(w.sends.map((s) => `+${s.number}`)).not.toContain(optedOut);
    const listed = (await w.base.store.listContacts(w.queueId, { limit: 10 })).items;
    expect(listed[2]?.status).toBe('skipped_opt_out');
  });

  it('stops before its first send when the process is stopping, claiming nothing', async () => {
    // Prepare
    const w = await pumpWorld();
    const stopping = new AbortController();
    stopping.abort();

    // Act
    const result = await runQueue(w.deps, w.item, { ...OPTIONS, stopSignal: stopping.signal });

    // Assess
    expect(result).toBe('continued');
    expect(w.sends).toHaveLength(0);
    const listed = (await w.base.store.listContacts(w.queueId, { limit: 10 })).items;
    expect(listed.every((c) => c.status === 'pending')).toBe(true);
    expect(w.base.published.at(-1)?.queueId).toBe(w.queueId);
  });

  it("counts its sends and failures in the tenant's figures with far fewer writes than messages", async () => {
    // Prepare: one send every 10 s, so the run lasts past the figures' flush interval.
    const w = await pumpWorld(['permanent'], { messagesPerMinute: 6, minIntervalSeconds: 10 });
    let figureWrites = 0;
    const store: PumpDeps['store'] = {
      ...w.deps.store,
      addTenantFigures: async (...args) => {
        figureWrites += 1;
        await w.base.store.addTenantFigures(...args);
      },
    };

    // Act
    const result = await runQueue({ ...w.deps, store }, w.item, OPTIONS);

    // Assess
    expect(result).toBe('completed');
    expect(await figuresOfTheDay(w.base.store)).toEqual({ sent: 4, failed: 1 });
    expect(figureWrites).toBeGreaterThanOrEqual(1);
    expect(figureWrites).toBeLessThanOrEqual(2);
  });

  it('counts each send once in the figures when a progress write failed and the next run recounted', async () => {
    // Prepare: the progress write carrying the sends fails (the store's answer is lost).
    const w = await pumpWorld();
    let sentWrites = 0;
    const store: PumpDeps['store'] = {
      ...w.deps.store,
      updateQueueProgress: async (queueId, deltas, fields) => {
        if (deltas.contactsSent && ++sentWrites === 1) throw new Error('store unavailable');
        return w.base.store.updateQueueProgress(queueId, deltas, fields);
      },
    };
    await expect(runQueue({ ...w.deps, store }, w.item, OPTIONS)).rejects.toThrow('store unavailable');
    const afterCrash = await w.base.store.getQueue(w.queueId);

    // Act
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess: the queue lost a counter write and was recounted; the figures never count twice.
    expect(afterCrash?.contactsSent).toBe(0);
    expect(result).toBe('completed');
    expect(w.sends).toHaveLength(5);
    expect(await w.base.store.getQueue(w.queueId)).toMatchObject({ contactsSent: 5 });
    expect(await figuresOfTheDay(w.base.store)).toEqual({ sent: 5, failed: 0 });
  });

  it(`writes the queue's counters every ${COUNTERS_FLUSH_EVERY_SENDS} sends and reads the status before the others`, async () => {
    // Prepare: 25 sends one second apart, so the time limit never comes first
    const w = await reminderWorld('2026-03-02T13:00:00.000Z');
    const item = await w.post('notification', contacts(25), 'fatura-25');
    const seen = { sentWrites: [] as number[], statusReads: 0 };
    const store: PumpDeps['store'] = {
      ...w.deps.store,
      updateQueueProgress: async (queueId, deltas, fields) => {
        if (deltas.contactsSent) seen.sentWrites.push(deltas.contactsSent);
        return w.base.store.updateQueueProgress(queueId, deltas, fields);
      },
      getQueueStatus: async (queueId) => {
        seen.statusReads += 1;
        return w.base.store.getQueueStatus(queueId);
      },
    };

    // Act
    const result = await runQueue({ ...w.deps, store }, item, OPTIONS);

    // Assess: two writes on the way (10 + 10), the rest on the way out; a read before each other send
    expect(result).toBe('completed');
    expect(seen.sentWrites).toEqual([10, 10, 5]);
    expect(seen.statusReads).toBe(25 - 1 - 2);
    expect(await w.base.store.getQueue(item.queueId)).toMatchObject({ contactsSent: 25 });
  });

  it('sends a retry already due at the end of the batch at once, with no wait and no queue write', async () => {
    // Prepare: contact 0 fails for now, due again after 1 s; the other four take 4 s.
    const w = await pumpWorld(['transient'], { retryBackoffSeconds: 1 });
    const plannedRuns: string[] = [];
    const store: PumpDeps['store'] = {
      ...w.deps.store,
      updateQueueProgress: async (queueId, deltas, fields) => {
        if (fields?.nextRunAt) plannedRuns.push(fields.nextRunAt);
        return w.base.store.updateQueueProgress(queueId, deltas, fields);
      },
    };

    // Act
    const result = await runQueue({ ...w.deps, store }, w.item, OPTIONS);

    // Assess
    expect(result).toBe('completed');
    expect(w.sends.map((s) => s.number)).toEqual(
      [0, 1, 2, 3, 4, 0].map((i) => contacts(5)[i]?.telefone.slice(1)),
    );
    expect(plannedRuns).toEqual([]);
  });

  describe('a clean handover (WorkItem.handover)', () => {
    /** The store, counting the whole-queue reads a run may make, where its listings start, its transitions. */
    const countingReads = (store: PumpDeps['store']) => {
      const seen = {
        stuckLookups: 0,
        summaries: 0,
        transitions: [] as string[],
        listedAfter: [] as Array<number | undefined>,
      };
      const counted: PumpDeps['store'] = {
        ...store,
        transitionQueue: async (queueId, from, to, fields, expiresAt) => {
          seen.transitions.push(to);
          return store.transitionQueue(queueId, from, to, fields, expiresAt);
        },
        listStuckContacts: async (queueId) => {
          seen.stuckLookups += 1;
          return store.listStuckContacts(queueId);
        },
        summarizeContacts: async (queueId) => {
          seen.summaries += 1;
          return store.summarizeContacts(queueId);
        },
        listSendableContacts: async (queueId, now, limit, afterPosition) => {
          seen.listedAfter.push(afterPosition);
          return store.listSendableContacts(queueId, now, limit, afterPosition);
        },
      };
      return { store: counted, seen };
    };

    it('is published by a run that spent its budget, with the last contact it took', async () => {
      // Prepare: one send a second; the budget ends after the third.
      const w = await pumpWorld();

      // Act
      const result = await runQueue(w.deps, w.item, { ...OPTIONS, budgetMs: 2_500 });

      // Assess
      expect(result).toBe('continued');
      expect(w.sends).toHaveLength(3);
      expect(w.base.published.at(-1)).toMatchObject({ queueId: w.queueId, handover: { afterPosition: 2 } });
    });

    it('spares the next run the queue write, the stuck-contact lookup, the recount and the sent contacts', async () => {
      // Prepare
      const w = await pumpWorld();
      await runQueue(w.deps, w.item, { ...OPTIONS, budgetMs: 2_500 });
      const handedOver = w.base.published.at(-1);
      if (!handedOver?.handover) throw new Error('no handover published');
      const { store, seen } = countingReads(w.deps.store);

      // Act
      const result = await runQueue({ ...w.deps, store }, handedOver, OPTIONS);

      // Assess: the two contacts left, listed from where the first run stopped; only completion
      // reads the whole queue.
      expect(result).toBe('completed');
      expect(w.sends).toHaveLength(5);
      expect(seen.stuckLookups).toBe(0);
      expect(seen.transitions).toEqual(['completed']);
      expect(seen.listedAfter[0]).toBe(2);
      expect(seen.summaries).toBe(1);
      expect(await w.base.store.getQueue(w.queueId)).toMatchObject({ status: 'completed', contactsSent: 5 });
    });

    it('is written through when the queue moves to another instance (its own was turned off)', async () => {
      // Prepare
      const w = await pumpWorld();
      await runQueue(w.deps, w.item, { ...OPTIONS, budgetMs: 2_500 });
      const handedOver = w.base.published.at(-1);
      if (!handedOver?.handover) throw new Error('no handover published');
      const own = await w.base.store.getInstance('acme', 'inst-1');
      if (!own) throw new Error('the pump world has no inst-1');
      await w.base.store.putInstance({ ...own, isActive: false });
      await w.base.store.putInstance({ ...own, id: 'inst-2', instanceName: 'acme-reserva' });
      const { store, seen } = countingReads(w.deps.store);

      // Act
      const result = await runQueue({ ...w.deps, store }, handedOver, OPTIONS);

      // Assess: the queue names its new instance, and the run checked the whole queue first.
      expect(result).toBe('completed');
      expect(w.sends).toHaveLength(5);
      expect(seen.transitions).toEqual(['running', 'completed']);
      expect(seen.stuckLookups).toBe(1);
      expect((await w.base.store.getQueue(w.queueId))?.instanceId).toBe('inst-2');
    });

    it('is not trusted from any other item: a continuation without it checks the whole queue', async () => {
      // Prepare
      const w = await pumpWorld();
      await runQueue(w.deps, w.item, { ...OPTIONS, budgetMs: 2_500 });
      const { handover: _dropped, ...plain } = w.base.published.at(-1) ?? w.item;
      const { store, seen } = countingReads(w.deps.store);

      // Act
      const result = await runQueue({ ...w.deps, store }, plain, OPTIONS);

      // Assess: the stuck lookup and the recount (a summary) at the start, the completion's at the end.
      expect(result).toBe('completed');
      expect(w.sends).toHaveLength(5);
      expect(seen.stuckLookups).toBe(1);
      expect(seen.transitions).toEqual(['running', 'completed']);
      expect(seen.listedAfter[0]).toBeUndefined();
      expect(seen.summaries).toBe(2);
    });
  });
});
