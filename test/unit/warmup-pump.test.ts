import { describe, expect, it } from 'vitest';
import { runQueue } from '../../lib/app/run-queue.ts';
import type { ContactInput } from '../../lib/domain/contact-intake.ts';
import { newWarmup } from '../../lib/domain/warmup.ts';
import type { WorkItem } from '../../lib/ports/work-queue.ts';
import { OPTIONS, overdueContact, reminderWorld } from '../support/pump-world.ts';

/** `count` debtors with numbers of their own (the frequency cap holds none back). */
const debtors = (count: number, make: (phone: string, i: number) => ContactInput) =>
  Array.from({ length: count }, (_, i) => make(`+55119${String(87_000_000 + i).padStart(8, '0')}`, i));

const notice = (phone: string, i: number): ContactInput => ({
  nome_cliente: `Cliente ${i}`,
  telefone: phone,
  mensagem: 'Aviso',
});

/** The local day (São Paulo) of each send, counted. */
const sendsPerDay = (sends: Array<{ at: number }>): Record<string, number> => {
  const days: Record<string, number> = {};
  for (const { at } of sends) {
    const day = new Date(at - 3 * 3_600_000).toISOString().slice(0, 10);
    days[day] = (days[day] ?? 0) + 1;
  }
  return days;
};

/** The scheduled run of `item` (a later generation, as the schedule publishes it). */
const next = (item: WorkItem, n: number): WorkItem => ({ ...item, generation: item.generation + n });

describe('runQueue with a warming-up instance', () => {
  it('sends 30 on the first day, waits scheduled for the next opening, then 60, then the rest', async () => {
    // Prepare: a number added on Wednesday 2026-12-16; 100 reminders posted that day at 17:00
    const w = await reminderWorld('2026-12-16T20:00:00.000Z', {}, { warmup: newWarmup('2026-12-16') });
    const item = await w.post(
      'overdue',
      debtors(100, (phone, i) => overdueContact(phone, `Cliente ${i}`)),
      'lote-grande',
    );

    // Act: Wednesday
    const wednesday = await runQueue(w.deps, item, OPTIONS);
    const waiting = await w.base.store.getQueue(item.queueId);

    // Assess: 30 sent, the queue waits for Thursday's opening (09:00, plus the start jitter)
    expect(wednesday).toBe('scheduled');
    expect(w.sends).toHaveLength(30);
    expect(waiting).toMatchObject({
      status: 'scheduled',
      contactsSent: 30,
      nextRunAt: '2026-12-17T12:00:30.000Z',
      pauseReason:
        'Aquecimento do número: limite de 30 mensagens hoje (dia 1) atingido; retoma quinta-feira, 17/12 às 09:00',
    });
    expect(w.base.scheduled.at(-1)).toMatchObject({ queueId: item.queueId, at: '2026-12-17T12:00:30.000Z' });

    // Act: the schedule fires on Thursday, then on Friday
    w.base.clock.set('2026-12-17T12:00:30.000Z');
    const thursday = await runQueue(w.deps, next(item, 2), OPTIONS);
    w.base.clock.set('2026-12-18T12:00:30.000Z');
    const friday = await runQueue(w.deps, next(item, 4), OPTIONS);

    // Assess
    expect([thursday, friday]).toEqual(['scheduled', 'completed']);
    expect(sendsPerDay(w.sends)).toEqual({ '2026-12-16': 30, '2026-12-17': 60, '2026-12-18': 10 });
    expect(new Set(w.sends.map((s) => s.number)).size).toBe(100);
    expect(await w.base.store.getQueue(item.queueId)).toMatchObject({
      status: 'completed',
      contactsSent: 100,
    });
  });

  it('moves to the next day’s cap at midnight in the middle of a run (a notification, sent 24/7)', async () => {
    // Prepare: 23:59:45 on day 1 in São Paulo, one notification a second
    const w = await reminderWorld('2026-12-17T02:59:45.000Z', {}, { warmup: newWarmup('2026-12-16') });
    const item = await w.post('notification', debtors(40, notice), 'avisos');

    // Act
    const result = await runQueue(w.deps, item, OPTIONS);

    // Assess: no pause: 15 before midnight on day 1 (cap 30), 25 after on day 2 (cap 60)
    expect(result).toBe('completed');
    expect(sendsPerDay(w.sends)).toEqual({ '2026-12-16': 15, '2026-12-17': 25 });
  });

  it('waits a queue on a number that already sent its share today, without running it', async () => {
    // Prepare: day 1 at 23:00; a first batch spends the 30
    const w = await reminderWorld('2026-12-17T02:00:00.000Z', {}, { warmup: newWarmup('2026-12-16') });
    await runQueue(w.deps, await w.post('notification', debtors(30, notice), 'primeiro'), OPTIONS);
    const second = await w.post('notification', debtors(31, notice).slice(30), 'segundo');

    // Act
    const result = await runQueue(w.deps, second, OPTIONS);

    // Assess: straight from pending to scheduled, at the next midnight (a notification has no hours)
    expect(result).toBe('scheduled');
    expect(w.sends).toHaveLength(30);
    expect(await w.base.store.getQueue(second.queueId)).toMatchObject({
      status: 'scheduled',
      nextRunAt: '2026-12-17T03:00:30.000Z',
    });
    const moves = w.base.statusChanges.filter((c) => c.queueId === second.queueId).map((c) => c.to);
    expect(moves).toEqual(['pending', 'scheduled']);
  });

  it('sends at the tenant’s pace alone once the ramp passed it, or when the warm-up is off', async () => {
    // Prepare: day 11 of a ramp (30 720 > 28 800 a day at 20 a minute) and a number without one
    const done = await reminderWorld('2026-12-26T13:00:00.000Z', {}, { warmup: newWarmup('2026-12-16') });
    const old = await reminderWorld('2026-12-16T13:00:00.000Z');
    const off = await reminderWorld(
      '2026-12-16T13:00:00.000Z',
      {},
      { warmup: newWarmup('2026-12-16', { enabled: false }) },
    );

    // Act
    const results = [];
    for (const w of [done, old, off])
      results.push(
        await runQueue(w.deps, await w.post('notification', debtors(35, notice), 'lote'), OPTIONS),
      );

    // Assess
    expect(results).toEqual(['completed', 'completed', 'completed']);
    expect([done, old, off].map((w) => w.sends.length)).toEqual([35, 35, 35]);
  });
});
