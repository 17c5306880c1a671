import { describe, expect, it } from 'vitest';
import { recordPayments } from '../../lib/app/record-payments.ts';
import { debtorDeps, seedQueue } from '../support/debtor-world.ts';
import { refusalOf, tenantWith } from '../support/use-case-deps.ts';

/** Tenant acme as the debtor world stores it. */
const ACME = tenantWith();

const ANA = '+5511988880001';
const BIA = '+5511988880002';
const CAIO = '+5511988880003';
const DANI = '+5511988880004';

describe('recordPayments', () => {
  it('cancels the unsent reminders of a paid invoice in every open queue and counts the sent and the claimed', async () => {
    // Prepare: queue A waits for business hours, B is paused, C is finished, D is another tenant's.
    const deps = await debtorDeps();
    await seedQueue(deps, 'qa', 'scheduled', [
      { status: 'pending', phone: ANA },
      { status: 'retry', phone: BIA },
      { status: 'sent', phone: CAIO },
      { status: 'sending', phone: DANI },
      { status: 'pending', phone: ANA, invoice: 'NF-2' },
    ]);
    await seedQueue(deps, 'qb', 'paused', [{ status: 'pending', phone: ANA }]);
    await seedQueue(deps, 'qc', 'completed', [{ status: 'sent', phone: ANA }]);
    await seedQueue(deps, 'qd', 'pending', [{ status: 'pending', phone: ANA }], { tenantId: 'other' });

    // Act
    const [outcome] = await recordPayments(deps, ACME, [{ numero_fatura: 'NF-1' }]);

    // Assess
    expect(outcome).toEqual({
      numero_fatura: 'NF-1',
      telefone: null,
      cancelled: 3,
      already_sent: 1,
      being_sent: 1,
      queue_ids: expect.arrayContaining(['qa', 'qb']),
    });
    expect(outcome?.queue_ids).toHaveLength(2);
    const statuses = async (queueId: string) =>
      (await deps.store.listContacts(queueId, { limit: 10 })).items.map((c) => [
        c.status,
        c.cancelReason ?? null,
      ]);
    expect(await statuses('qa')).toEqual([
      ['cancelled', 'paid'],
      ['cancelled', 'paid'],
      ['sent', null],
      ['sending', null],
      ['pending', null],
    ]);
    expect(await statuses('qd')).toEqual([['pending', null]]);
    // A keeps waiting for its other invoice; its counters follow the two cancellations.
    expect(await deps.store.getQueue('qa')).toMatchObject({
      status: 'scheduled',
      contactsCancelled: 2,
      contactsPendingRetry: 0,
    });
    // B has nothing left to send: it completes instead of waiting for a resume.
    expect(await deps.store.getQueue('qb')).toMatchObject({ status: 'completed', contactsCancelled: 1 });
    expect(deps.statusChanges).toEqual([
      { tenantId: 'acme', queueId: 'qb', from: 'paused', to: 'completed' },
    ]);
    const events = await deps.store.listCallbackEvents('acme', { limit: 100 });
    expect(events.items.map((e) => [e.eventId, e.payload.cancel_reason ?? null]).sort()).toEqual([
      ['qa:0:cancelled', 'paid'],
      ['qa:1:cancelled', 'paid'],
      ['qb:0:cancelled', 'paid'],
      ['qb:queue.completed', null],
    ]);
    expect((await deps.store.getCallbackEvent('qa', 'qa:0:cancelled'))?.payload.contact).toEqual({
      telefone: ANA,
      nome_cliente: 'Cliente 0',
      numero_fatura: 'NF-1',
    });
  });

  it("cancels only that debtor's reminders when the notice names a phone, however it is typed", async () => {
    // Prepare
    const deps = await debtorDeps();
    await seedQueue(deps, 'qa', 'pending', [
      { status: 'pending', phone: ANA },
      { status: 'pending', phone: BIA },
    ]);

    // Act: Ana's number as a person types it.
    const outcomes = await recordPayments(deps, ACME, [
      { numero_fatura: 'NF-1', telefone: '(11) 98888-0001' },
      { numero_fatura: 'NF-9' },
    ]);

    // Assess
    expect(outcomes).toEqual([
      {
        numero_fatura: 'NF-1',
        telefone: ANA,
        cancelled: 1,
        already_sent: 0,
        being_sent: 0,
        queue_ids: ['qa'],
      },
      { numero_fatura: 'NF-9', telefone: null, cancelled: 0, already_sent: 0, being_sent: 0, queue_ids: [] },
    ]);
    expect((await deps.store.getContact('qa', 1))?.status).toBe('pending');
    expect((await deps.store.getQueue('qa'))?.status).toBe('pending');
  });

  it('cancels a reminder the frequency cap deferred and takes it out of the deferred and retry counters', async () => {
    // Prepare
    const deps = await debtorDeps();
    await seedQueue(deps, 'qa', 'scheduled', [
      { status: 'pending', phone: ANA },
      { status: 'pending', phone: BIA, invoice: 'NF-2' },
    ]);
    await deps.store.deferContact('qa', 0, '2026-03-03T12:00:00.000Z', deps.clock.now().toISOString());
    await deps.store.updateQueueProgress('qa', { contactsPendingRetry: 1, contactsDeferred: 1 });

    // Act
    const [outcome] = await recordPayments(deps, ACME, [{ numero_fatura: 'NF-1' }]);

    // Assess
    expect(outcome).toMatchObject({ cancelled: 1 });
    expect(await deps.store.getQueue('qa')).toMatchObject({
      status: 'scheduled',
      contactsCancelled: 1,
      contactsPendingRetry: 0,
      contactsDeferred: 0,
    });
    expect(await deps.store.getContact('qa', 0)).toMatchObject({ status: 'cancelled', cancelReason: 'paid' });
  });

  it('counts a reminder claimed between its read and its cancellation as being sent, and leaves it to its pump', async () => {
    // Prepare: the pump claims the contact just before the cancellation's write.
    const deps = await debtorDeps();
    await seedQueue(deps, 'qa', 'running', [{ status: 'pending', phone: ANA }]);
    const cancel = deps.store.cancelUnsentContact.bind(deps.store);
    deps.store.cancelUnsentContact = async (...args) => {
      await deps.store.claimContact('qa', 0, deps.clock.now().toISOString());
      return cancel(...args);
    };

    // Act
    const [outcome] = await recordPayments(deps, ACME, [{ numero_fatura: 'NF-1' }]);

    // Assess
    expect(outcome).toMatchObject({ cancelled: 0, being_sent: 1, already_sent: 0 });
    expect((await deps.store.getContact('qa', 0))?.status).toBe('sending');
    expect((await deps.store.getQueue('qa'))?.status).toBe('running');
  });

  it('emits, when the payment is posted again, the cancelled events a request that died after its writes lost', async () => {
    // Prepare: the first request cancels both reminders, emits the first event and dies at the second.
    const deps = await debtorDeps();
    await seedQueue(deps, 'qa', 'scheduled', [
      { status: 'pending', phone: ANA },
      { status: 'pending', phone: BIA },
      { status: 'pending', phone: CAIO, invoice: 'NF-2' },
    ]);
    const emit = deps.events.emit.bind(deps.events);
    let emitted = 0;
    deps.events.emit = async (input) => {
      if (input.name === 'cancelled' && ++emitted === 2) throw new Error('the request died here');
      return emit(input);
    };
    await expect(recordPayments(deps, ACME, [{ numero_fatura: 'NF-1' }])).rejects.toThrow('died');
    const cancelledAt = (await deps.store.getContact('qa', 1))?.updatedAt;
    expect(await deps.store.getCallbackEvent('qa', 'qa:1:cancelled')).toBeUndefined();
    deps.clock.set('2026-03-02T13:05:00.000Z');

    // Act: the ERP posts the payment again.
    const [outcome] = await recordPayments(deps, ACME, [{ numero_fatura: 'NF-1' }]);

    // Assess
    expect(outcome).toMatchObject({ cancelled: 0, already_sent: 0, being_sent: 0 });
    const lost = await deps.store.getCallbackEvent('qa', 'qa:1:cancelled');
    expect(lost?.occurredAt).toBe(cancelledAt);
    expect(lost?.payload).toMatchObject({
      event: 'cancelled',
      cancel_reason: 'paid',
      contact: { telefone: BIA },
    });
    // The event that was stored is not emitted again.
    expect(emitted).toBe(3);
  });

  it('emits each cancelled event once when the payment completes the queue, whatever a lagging listing shows', async () => {
    // Prepare: four unsent reminders of one invoice, the queue's last; the store's listing of event
    // ids lags (as the port allows: an event stored a moment ago may be missing).
    const deps = await debtorDeps();
    await seedQueue(
      deps,
      'qa',
      'scheduled',
      [ANA, BIA, CAIO, DANI].map((phone) => ({ status: 'pending' as const, phone })),
    );
    deps.store.listCallbackEventIds = async () => [];
    const emit = deps.events.emit.bind(deps.events);
    const emitted: Array<string> = [];
    deps.events.emit = async (input) => {
      emitted.push(`${input.name}:${input.contactPosition}`);
      return emit(input);
    };

    // Act
    const [outcome] = await recordPayments(deps, ACME, [{ numero_fatura: 'NF-1' }]);

    // Assess
    expect(outcome).toMatchObject({ cancelled: 4 });
    expect((await deps.store.getQueue('qa'))?.status).toBe('completed');
    expect(emitted.sort()).toEqual([
      'cancelled:0',
      'cancelled:1',
      'cancelled:2',
      'cancelled:3',
      'queue.completed:null',
    ]);
  });

  it('finds the invoice among hundreds of one-contact queues, read a group at a time', async () => {
    // Prepare: a tenant that posts one batch per invoice (250 open queues: three groups of reads)
    const deps = await debtorDeps();
    for (let i = 0; i < 250; i += 1)
      await seedQueue(deps, `q${i}`, 'pending', [{ status: 'pending', phone: ANA, invoice: `NF-${i}` }]);

    // Act
    const outcomes = await recordPayments(deps, ACME, [
      { numero_fatura: 'NF-7' },
      { numero_fatura: 'NF-231' },
    ]);

    // Assess
    expect(outcomes.map((o) => [o.cancelled, o.queue_ids])).toEqual([
      [1, ['q7']],
      [1, ['q231']],
    ]);
    expect((await deps.store.getContact('q231', 0))?.status).toBe('cancelled');
    expect((await deps.store.getContact('q230', 0))?.status).toBe('pending');
  });

  it("touches only the queues of the key's template types", async () => {
    // Prepare
    const deps = await debtorDeps();
    await seedQueue(deps, 'qa', 'pending', [{ status: 'pending', phone: ANA }], { templateType: 'overdue' });
    await seedQueue(deps, 'qn', 'pending', [{ status: 'pending', phone: ANA }], {
      templateType: 'notification',
    });

    // Act
    const [outcome] = await recordPayments(deps, ACME, [{ numero_fatura: 'NF-1' }], ['notification']);

    // Assess
    expect(outcome).toMatchObject({ cancelled: 1, queue_ids: ['qn'] });
    expect((await deps.store.getContact('qa', 0))?.status).toBe('pending');
  });

  it('refuses the whole list, naming the item, when a phone is not a phone, and changes nothing', async () => {
    // Prepare
    const deps = await debtorDeps();
    await seedQueue(deps, 'qa', 'pending', [{ status: 'pending', phone: ANA }]);

    // Act
    const error = await refusalOf(() =>
      recordPayments(deps, ACME, [{ numero_fatura: 'NF-1' }, { numero_fatura: 'NF-1', telefone: '12ab' }]),
    );

    // Assess
    expect(error.code).toBe('INVALID_PHONE');
    expect(error.details).toEqual([{ field: '1.telefone', message: expect.stringContaining('Telefone') }]);
    expect((await deps.store.getContact('qa', 0))?.status).toBe('pending');
  });
});
