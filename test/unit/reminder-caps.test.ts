import { describe, expect, it } from 'vitest';
import { controlQueue } from '../../lib/app/control-queue.ts';
import { runQueue } from '../../lib/app/run-queue.ts';
import { DEFAULT_BILLING_CONFIG } from '../../lib/domain/billing-config.ts';
import { queueStatusView } from '../../lib/http/views.ts';
import { OPTIONS, overdueContact, reminderWorld } from '../support/pump-world.ts';

const MARIA = '+5511987654301';
const JOAO = '+5511987654302';
const ANA = '+5511987654303';

/** Wednesday 2026-12-16, 10:00 in São Paulo: inside the weekday hours. */
const WEDNESDAY_10H = '2026-12-16T13:00:00.000Z';
/** Thursday 09:00 in São Paulo: the next opening. */
const THURSDAY_OPENING = '2026-12-17T12:00:00.000Z';

describe('runQueue with the per-debtor frequency cap', () => {
  it('sends one reminder a day to a debtor in two batches of the same morning, the other the next day', async () => {
    // Prepare: the morning's first batch reminds Maria and João
    const w = await reminderWorld(WEDNESDAY_10H);
    const first = await w.post('overdue', [overdueContact(MARIA), overdueContact(JOAO, 'João')], 'lote-1');
    expect(await runQueue(w.deps, first, OPTIONS)).toBe('completed');
    w.base.clock.set('2026-12-16T14:00:00.000Z');
    const second = await w.post('overdue', [overdueContact(MARIA), overdueContact(ANA, 'Ana')], 'lote-2');

    // Act: the second batch at 11:00
    const sameDay = await runQueue(w.deps, second, OPTIONS);
    const waiting = await w.base.store.getQueue(second.queueId);

    // Assess: Ana goes now; Maria waits for Thursday's opening, counted, and the queue waits for her
    expect(sameDay).toBe('scheduled');
    expect(w.sends.map((s) => s.number)).toEqual([MARIA, JOAO, ANA].map((p) => p.slice(1)));
    expect(waiting).toMatchObject({
      status: 'running',
      contactsSent: 1,
      contactsDeferred: 1,
      contactsPendingRetry: 1,
      nextRunAt: THURSDAY_OPENING,
    });
    expect(w.base.scheduled.at(-1)).toMatchObject({ queueId: second.queueId, at: THURSDAY_OPENING });
    const maria = await w.base.store.getContact(second.queueId, 0);
    expect(maria).toMatchObject({ status: 'retry', deferred: true, retryAt: THURSDAY_OPENING, attempts: 0 });
    if (!waiting) throw new Error('queue missing');
    const status = queueStatusView(waiting, DEFAULT_BILLING_CONFIG, w.base.clock.now());
    expect(status).toMatchObject({ contacts_deferred: 1, contacts_pending_retry: 1, contacts_pending: 0 });

    // Act: Thursday's opening, the scheduled run
    w.base.clock.set(THURSDAY_OPENING);
    const nextDay = await runQueue(w.deps, { ...second, generation: second.generation + 1 }, OPTIONS);

    // Assess: Maria's second reminder goes on Thursday, once
    expect(nextDay).toBe('completed');
    const toMaria = w.sends.filter((s) => s.number === MARIA.slice(1));
    expect(toMaria.map((s) => new Date(s.at).toISOString().slice(0, 10))).toEqual([
      '2026-12-16',
      '2026-12-17',
    ]);
    expect(await w.base.store.getQueue(second.queueId)).toMatchObject({
      status: 'completed',
      contactsSent: 2,
      contactsDeferred: 0,
      contactsPendingRetry: 0,
    });
    expect((await w.base.store.getContact(second.queueId, 0))?.deferred).toBeUndefined();
  });

  it('defers a debtor’s second invoice of the same batch, remembering its own send before any index shows it', async () => {
    // Prepare: the history never shows a send (an index that lags for good)
    const w = await reminderWorld(WEDNESDAY_10H);
    w.deps.store = { ...w.deps.store, listRemindersSince: async () => [] };
    const item = await w.post(
      'overdue',
      [overdueContact(MARIA), overdueContact(MARIA, 'Maria', 'NF-2'), overdueContact(JOAO, 'João')],
      'lote-duas-faturas',
    );

    // Act
    const result = await runQueue(w.deps, item, OPTIONS);

    // Assess
    expect(result).toBe('scheduled');
    expect(w.sends.map((s) => s.number)).toEqual([MARIA, JOAO].map((p) => p.slice(1)));
    expect(await w.base.store.getContact(item.queueId, 1)).toMatchObject({
      status: 'retry',
      deferred: true,
      retryAt: THURSDAY_OPENING,
    });
  });

  it('leaves notifications alone unless the tenant caps them too', async () => {
    // Prepare: Maria was reminded this morning; a notification batch and a capped tenant's one follow
    const open = await reminderWorld(WEDNESDAY_10H);
    const capped = await reminderWorld(WEDNESDAY_10H, { frequencyCapTypes: ['overdue', 'notification'] });
    for (const w of [open, capped]) {
      await runQueue(w.deps, await w.post('overdue', [overdueContact(MARIA)], 'lembrete'), OPTIONS);
      w.base.clock.set('2026-12-16T14:00:00.000Z');
    }
    const notice = [{ nome_cliente: 'Maria', telefone: MARIA, mensagem: 'Aviso' }];

    // Act
    const exempt = await runQueue(open.deps, await open.post('notification', notice, 'aviso'), OPTIONS);
    const held = await runQueue(capped.deps, await capped.post('notification', notice, 'aviso'), OPTIONS);

    // Assess: a capped notification has no business hours: it waits the 20 h exactly
    expect(exempt).toBe('completed');
    expect(open.sends).toHaveLength(2);
    expect(held).toBe('scheduled');
    expect(capped.sends).toHaveLength(1);
    const [queue] = (await capped.base.store.listQueues('acme', { limit: 10, status: 'running' })).items;
    expect(queue?.nextRunAt).toBe('2026-12-17T09:00:00.000Z');
  });

  it('sends every reminder when the tenant turns both rules off', async () => {
    // Prepare
    const w = await reminderWorld(WEDNESDAY_10H, {
      maxRemindersPerDebtorPerDay: 0,
      minHoursBetweenReminders: 0,
    });
    await runQueue(w.deps, await w.post('overdue', [overdueContact(MARIA)], 'lote-1'), OPTIONS);

    // Act
    const result = await runQueue(
      w.deps,
      await w.post('overdue', [overdueContact(MARIA)], 'lote-2'),
      OPTIONS,
    );

    // Assess
    expect(result).toBe('completed');
    expect(w.sends).toHaveLength(2);
  });

  it('gives a cancelled deferred contact back from both waiting counters', async () => {
    // Prepare
    const w = await reminderWorld(WEDNESDAY_10H);
    await runQueue(w.deps, await w.post('overdue', [overdueContact(MARIA)], 'lote-1'), OPTIONS);
    const second = await w.post('overdue', [overdueContact(MARIA)], 'lote-2');
    await runQueue(w.deps, second, OPTIONS);

    // Act
    const { queue } = await controlQueue(w.base, 'acme', second.queueId, 'cancel');

    // Assess
    expect(queue).toMatchObject({
      status: 'cancelled',
      contactsCancelled: 1,
      contactsDeferred: 0,
      contactsPendingRetry: 0,
    });
  });
});
