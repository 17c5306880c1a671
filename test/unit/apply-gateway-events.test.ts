import { describe, expect, it } from 'vitest';
import { type ApplyGatewayEventsDeps, applyGatewayEvents } from '../../lib/app/apply-gateway-events.ts';
import { receiptDeltas } from '../../lib/app/apply-receipt.ts';
import { phoneSpellings } from '../../lib/app/opt-outs.ts';
import { newBillingContact, newBillingQueue } from '../../lib/domain/billing-queue.ts';
import { retentionEnd } from '../../lib/domain/retention.ts';
import type { ConnectionState, WhatsAppInstance } from '../../lib/domain/tenant-types.ts';
import type { BillingQueue, ConversationMessage, QueueStatus } from '../../lib/domain/types.ts';
import type { Logger } from '../../lib/observability/logger.ts';
import type { BillingEventInput } from '../../lib/ports/billing-events.ts';
import type {
  GatewayEvent,
  GatewayReceiptStatus,
  GatewayReply,
  GatewayWebhook,
} from '../../lib/ports/gateway-events.ts';
import type { WebhookIgnoredReason } from '../../lib/ports/metrics.ts';
import { inMemoryDeps, tenantWith } from '../support/use-case-deps.ts';

const NOW = new Date('2026-01-10T12:00:00.000Z');
/** When the billing messages went out: the day before the webhooks. */
const SENT_AT = '2026-01-09T12:00:00.000Z';
/** The debtor billed at position 0 of queue q-1. */
const PHONE = '+5531987654321';
/** The gateway's id of that billing message. */
const SENT_ID = '3EB0AAA';
/** How long tenant acme keeps conversations. */
const RETENTION_DAYS = 30;

const instance: WhatsAppInstance = {
  id: 'inst-1',
  tenantId: 'acme',
  instanceName: 'inst-1',
  baseUrl: 'http://evolution.local',
  credentialRef: 'plain:k',
  webhookSecret: 'instance-secret',
  isActive: true,
  connectionState: 'open',
  createdAt: NOW.toISOString(),
};

/** The queue's counters (`contacts*`), by name. */
const countersOf = (queue: BillingQueue | undefined): Record<string, number> =>
  Object.fromEntries(
    Object.entries(queue ?? {}).filter(
      (entry): entry is [string, number] => entry[0].startsWith('contacts') && typeof entry[1] === 'number',
    ),
  );

/** What changed between two readings of a queue's counters (the counters that did not change left out). */
const changes = (before: Record<string, number>, after: Record<string, number>): Record<string, number> =>
  Object.fromEntries(
    Object.entries(after)
      .map(([counter, value]): [string, number] => [counter, value - (before[counter] ?? 0)])
      .filter(([, delta]) => delta !== 0),
  );

/**
 * The use case's ports over the contract-tested in-memory store, on a hand clock at NOW: tenant acme
 * (30 days' retention) and its instance inst-1. The ports at the edge record what it did: the events
 * for the ERP, the metrics (by name; an ignored webhook as `ignored:<reason>`), the fields logged at
 * WARN and DEBUG; the work queue and the scheduler as `inMemoryDeps` records them.
 */
const bareWorld = async (instanceFields: Partial<WhatsAppInstance> = {}) => {
  const base = inMemoryDeps(NOW.toISOString());
  const { store } = base;
  await store.createTenant(tenantWith({ retentionDays: RETENTION_DAYS }));
  await store.putInstance({ ...instance, ...instanceFields });
  const events: BillingEventInput[] = [];
  const metrics: string[] = [];
  const warnings: Array<Record<string, unknown>> = [];
  const debugs: Array<Record<string, unknown>> = [];
  const deps: ApplyGatewayEventsDeps = {
    ...base,
    events: { emit: async (event) => void events.push(event) },
    metrics: {
      ...base.metrics,
      messageDelivered: () => void metrics.push('delivered'),
      messageRead: () => void metrics.push('read'),
      replyReceived: () => void metrics.push('replied'),
      webhookIgnored: ({ reason }) => void metrics.push(`ignored:${reason}`),
    },
    logger: {
      info: () => undefined,
      error: () => undefined,
      debug: (_message: string, fields: Record<string, unknown>) => void debugs.push(fields),
      warn: (_message: string, fields: Record<string, unknown>) => void warnings.push(fields),
    } as unknown as Logger,
  };

  /** A queue of inst-1 as the Accept path stores it (`pending` unless `fields` say otherwise), one contact per phone. */
  const addQueue = async (id: string, phones: readonly string[], fields: Partial<BillingQueue> = {}) => {
    await store.createQueue(
      newBillingQueue({
        id,
        tenantId: 'acme',
        campaignId: `c-${id}`,
        externalId: `e-${id}`,
        templateType: 'overdue',
        instanceId: instance.id,
        totalContacts: phones.length,
        createdAt: SENT_AT,
        ...fields,
      }),
    );
    await store.putContacts(
      phones.map((phone, position) =>
        newBillingContact({
          queueId: id,
          tenantId: 'acme',
          position,
          phone,
          name: `Cliente ${position}`,
          invoiceNumber: `NF-${position}`,
          variables: { nome_cliente: `Cliente ${position}` },
          variationId: 'v1',
          renderedMessage: `Olá Cliente ${position}`,
          createdAt: SENT_AT,
        }),
      ),
    );
  };

  /** The conversation message of a contact's send, as the pump records it. */
  const billingMessage = async (
    queueId: string,
    position: number,
    messageId: string,
    at: string,
  ): Promise<ConversationMessage> => {
    const queue = await store.getQueue(queueId);
    const contact = await store.getContact(queueId, position);
    if (!queue || !contact) throw new Error(`no contact ${queueId}/${position}`);
    return {
      id: messageId,
      tenantId: 'acme',
      phone: contact.phone,
      instanceId: queue.instanceId ?? instance.id,
      direction: 'outbound',
      text: contact.renderedMessage,
      at,
      queueId,
      contactPosition: position,
      campaignId: queue.campaignId,
      externalId: queue.externalId,
      templateType: queue.templateType,
    };
  };

  /** Claims a contact as the pump does before it calls the gateway (`sending`). */
  const claim = async (queueId: string, position: number, at: string) => {
    const claimed = await store.claimContact(queueId, position, at);
    if (!claimed) throw new Error(`contact ${queueId}/${position} is not claimable`);
    return claimed;
  };

  /**
   * A contact sent as the pump records it: claimed, then `sent` with the gateway's id and its
   * conversation message (what receipts and replies find it by), and counted in `contactsSent`.
   */
  const send = async (queueId: string, position: number, messageId: string, at = SENT_AT) => {
    const claimed = await claim(queueId, position, at);
    const message = await billingMessage(queueId, position, messageId, at);
    const result = {
      status: 'sent' as const,
      providerMessageId: messageId,
      remoteJid: `${claimed.phone.slice(1)}@s.whatsapp.net`,
      at,
    };
    if (!(await store.recordSent(claimed, result, message, retentionEnd(at, RETENTION_DAYS))))
      throw new Error(`the send of ${queueId}/${position} was not recorded`);
    await store.addToQueueCounters(queueId, { contactsSent: 1 });
  };

  /** A send the gateway took whose contact is not marked sent yet: claimed (`sending`), its message recorded. */
  const sendInFlight = async (queueId: string, position: number, messageId: string, at = SENT_AT) => {
    await claim(queueId, position, at);
    const message = await billingMessage(queueId, position, messageId, at);
    await store.recordMessage(message, retentionEnd(at, RETENTION_DAYS));
  };

  return {
    deps,
    store,
    clock: base.clock,
    events,
    metrics,
    warnings,
    debugs,
    published: base.published,
    scheduled: base.scheduled,
    addQueue,
    send,
    sendInFlight,
    contact: (position = 0, queueId = 'q-1') => store.getContact(queueId, position),
    /** A message as the phone's history shows it (with its text), found by its gateway id. */
    message: async (messageId: string) => {
      const record = await store.getMessage('acme', instance.id, messageId);
      if (!record) return undefined;
      return (await store.listMessages('acme', record.phone, 50)).find((m) => m.id === messageId);
    },
    counters: async (queueId = 'q-1') => countersOf(await store.getQueue(queueId)),
    /** The tenant's figures counted on the webhooks' day, by UTC hour, without the zeros. */
    figures: async () =>
      (
        await store.listTenantFigures(
          'acme',
          new Date('2026-01-10T00:00:00.000Z'),
          new Date('2026-01-11T00:00:00.000Z'),
        )
      ).map(({ hourStart, ...counted }) => ({
        hour: hourStart.toISOString().slice(11, 13),
        ...Object.fromEntries(Object.entries(counted).filter(([, n]) => n !== 0)),
      })),
  };
};

/**
 * `bareWorld` with a billing batch: queue q-1 of three contacts, the first (PHONE) sent the day
 * before as SENT_ID, the other two not sent yet.
 */
const world = async () => {
  const w = await bareWorld();
  await w.addQueue('q-1', [PHONE, '+5531911112222', '+5531933334444']);
  await w.send('q-1', 0, SENT_ID);
  return w;
};

const LABEL = { event: 'messages.update', instance: 'inst-1' };
/** One webhook reporting `events`. */
const webhook = (first: GatewayEvent, ...more: GatewayEvent[]): GatewayWebhook => ({
  events: [first, ...more],
  label: LABEL,
});
const receipt = (status: GatewayReceiptStatus, messageId = SENT_ID, at = new Date(NOW.getTime() - 1000)) =>
  webhook({
    kind: 'receipt',
    messageId,
    status,
    at,
    error: status === 'failed' ? 'falhou (ERROR)' : undefined,
  });
const reply = (fields: Partial<GatewayReply>) =>
  webhook({
    kind: 'reply',
    messageId: '3A0001',
    fromPhone: '+553187654321',
    sender: '+553187654321',
    text: 'oi',
    contentType: 'conversation',
    quotedMessageId: undefined,
    at: NOW,
    sentAt: undefined,
    ...fields,
  });
const ignoredEvent = (reason: WebhookIgnoredReason, detail = `because ${reason}`): GatewayEvent => ({
  kind: 'ignored',
  reason,
  detail,
});

describe('apply-gateway-events', () => {
  describe('pure helpers', () => {
    it('counts delivered once whether read comes first or after, and moves a failure out of sent', () => {
      expect(receiptDeltas('sent', 'delivered')).toEqual({ contactsDelivered: 1 });
      expect(receiptDeltas('sent', 'read')).toEqual({ contactsDelivered: 1, contactsRead: 1 });
      expect(receiptDeltas('delivered', 'read')).toEqual({ contactsRead: 1 });
      expect(receiptDeltas('sent', 'failed')).toEqual({ contactsSent: -1, contactsFailed: 1 });
      // An unknown send (its record cut off) was counted unknown, not sent.
      expect(receiptDeltas('unknown', 'failed')).toEqual({ contactsUnknown: -1, contactsFailed: 1 });
      // ...and one a receipt shows arrived counts as sent.
      expect(receiptDeltas('unknown', 'delivered')).toEqual({
        contactsUnknown: -1,
        contactsSent: 1,
        contactsDelivered: 1,
      });
      expect(receiptDeltas('unknown', 'read')).toEqual({
        contactsUnknown: -1,
        contactsSent: 1,
        contactsDelivered: 1,
        contactsRead: 1,
      });
      expect(receiptDeltas('sent', 'delivered', true)).toEqual({ contactsDelivered: 1, contactsStalled: -1 });
      expect(receiptDeltas('sent', 'failed', true)).toEqual({
        contactsSent: -1,
        contactsFailed: 1,
        contactsStalled: -1,
      });
    });

    it('knows both 9th-digit spellings of a Brazilian mobile', () => {
      expect(phoneSpellings('+5531987654321')).toEqual(['+5531987654321', '+553187654321']);
      expect(phoneSpellings('+553187654321')).toEqual(['+553187654321', '+5531987654321']);
      expect(phoneSpellings('+351912345678')).toEqual(['+351912345678']);
    });
  });

  describe('receipts', () => {
    it('applies a read before its delivery once, counts both, and ignores the late delivery', async () => {
      // Prepare
      const w = await world();
      const before = await w.counters();

      // Act
      const read = await applyGatewayEvents(w.deps, instance, receipt('read'));
      const late = await applyGatewayEvents(w.deps, instance, receipt('delivered'));

      // Assess
      expect([read.result, late.result]).toEqual(['applied', 'ignored']);
      expect(late.reason).toBe('duplicate');
      expect(await w.contact()).toMatchObject({ status: 'read', readAt: '2026-01-10T11:59:59.000Z' });
      expect(changes(before, await w.counters())).toEqual({ contactsDelivered: 1, contactsRead: 1 });
      expect(await w.figures()).toEqual([{ hour: '11', delivered: 1, read: 1 }]);
      expect(w.events.map((e) => e.name)).toEqual(['delivered', 'read', 'delivered']);
      expect(w.metrics).toEqual(['delivered', 'read', 'ignored:duplicate']);
      expect(w.warnings).toEqual([]);
    });

    it("still writes the counters and the ERP's events when the figures write fails, and the gateway's retry counts nothing twice", async () => {
      // Prepare: the tenant's figures cannot be written once (a throttled item)
      const w = await world();
      const before = await w.counters();
      const addTenantFigures = w.store.addTenantFigures.bind(w.store);
      let failures = 1;
      w.deps.store.addTenantFigures = async (...args) => {
        if (failures-- > 0) throw new Error('figures throttled');
        return addTenantFigures(...args);
      };

      // Act
      const first = applyGatewayEvents(w.deps, instance, receipt('delivered'));
      await expect(first).rejects.toThrow('figures throttled');
      const retried = await applyGatewayEvents(w.deps, instance, receipt('delivered'));

      // Assess: the contact and the queue counted once; the events went out (again on the retry)
      expect(await w.contact()).toMatchObject({ status: 'delivered' });
      expect(changes(before, await w.counters())).toEqual({ contactsDelivered: 1 });
      expect(await w.figures()).toEqual([]);
      expect(w.events.map((e) => e.name)).toEqual(['delivered', 'delivered']);
      expect(retried).toMatchObject({ result: 'ignored', reason: 'duplicate' });
    });

    it('emits only read for a read after the delivery, and both again for a duplicate read', async () => {
      // Prepare
      const w = await world();

      // Act
      await applyGatewayEvents(w.deps, instance, receipt('delivered'));
      await applyGatewayEvents(w.deps, instance, receipt('read'));
      const duplicate = await applyGatewayEvents(w.deps, instance, receipt('read'));

      // Assess: the delivery's receipt emitted `delivered`; a duplicate re-emits all (a crash's gap)
      expect(duplicate.reason).toBe('duplicate');
      expect(w.events.map((e) => e.name)).toEqual(['delivered', 'read', 'delivered', 'read']);
    });

    it('moves a failure out of sent, keeps the gateway’s account of it and tells the ERP', async () => {
      // Prepare
      const w = await world();
      const before = await w.counters();

      // Act
      const outcome = await applyGatewayEvents(w.deps, instance, receipt('failed'));

      // Assess
      expect(outcome.result).toBe('applied');
      expect(await w.contact()).toMatchObject({ status: 'failed', lastError: 'falhou (ERROR)' });
      expect(changes(before, await w.counters())).toEqual({ contactsSent: -1, contactsFailed: 1 });
      expect(await w.figures()).toEqual([{ hour: '11', failed: 1 }]);
      expect(w.events).toEqual([
        expect.objectContaining({
          name: 'failed',
          providerMessageId: SENT_ID,
          error: { code: 'DELIVERY_FAILED', message: 'WhatsApp informou falha na entrega' },
        }),
      ]);
    });

    it('asks for a retry while the contact is still sending or the message is not recorded yet', async () => {
      // Prepare: the gateway took contact 1's message, which the pump has not marked sent yet
      const w = await world();
      await w.sendInFlight('q-1', 1, '3EB0SENDING');
      const before = await w.counters();

      // Act
      const sending = await applyGatewayEvents(w.deps, instance, receipt('delivered', '3EB0SENDING'));
      const unknown = await applyGatewayEvents(w.deps, instance, receipt('delivered', '3EB0NEW'));
      const stale = await applyGatewayEvents(
        w.deps,
        instance,
        receipt('delivered', '3EB0NEW', new Date('2026-01-10T11:55:00.000Z')),
      );

      // Assess
      expect([sending.result, unknown.result, stale.result]).toEqual([
        'retry_later',
        'retry_later',
        'ignored',
      ]);
      expect(stale.reason).toBe('unknown_message');
      expect(await w.contact(1)).toMatchObject({ status: 'sending', deliveredAt: null });
      expect(changes(before, await w.counters())).toEqual({});
    });

    it('tells the ERP an unknown send was sent after all, at its send time, when a receipt shows it arrived', async () => {
      // Prepare: contact 1's send reached the gateway but its record was cut off; it settled unknown
      const w = await world();
      await w.sendInFlight('q-1', 1, '3EB0CUTOFF');
      await w.store.finishContact(
        'q-1',
        1,
        { status: 'unknown', error: 'resultado desconhecido: timeout', code: 'UNKNOWN_OUTCOME', at: SENT_AT },
        retentionEnd(SENT_AT, RETENTION_DAYS),
      );

      // Act
      await applyGatewayEvents(w.deps, instance, receipt('delivered', '3EB0CUTOFF'));
      await applyGatewayEvents(w.deps, instance, receipt('read', '3EB0CUTOFF'));

      // Assess: sent (at the send's own time), delivered, then read; the unknown outcome is gone
      expect(w.events.map((e) => [e.name, e.occurredAt, e.providerMessageId])).toEqual([
        ['sent', SENT_AT, '3EB0CUTOFF'],
        ['delivered', '2026-01-10T11:59:59.000Z', '3EB0CUTOFF'],
        ['read', '2026-01-10T11:59:59.000Z', '3EB0CUTOFF'],
      ]);
      expect(await w.contact(1)).toMatchObject({ status: 'read', sentAt: SENT_AT, lastError: null });
    });

    it('records a server ack without moving the status, and counts a stall it ends out of contacts_stalled', async () => {
      // Prepare: contact 0 sent; contact 1 sent and found stalled (counted so, as the delivery watch
      // does); contact 2 in flight, not marked sent yet
      const w = await world();
      await w.send('q-1', 1, '3EB0STALLED');
      await w.store.markContactStalled('q-1', 1, '2026-01-10T06:00:00.000Z', '2026-01-10T06:00:00.000Z');
      await w.store.addToQueueCounters('q-1', { contactsStalled: 1 });
      await w.sendInFlight('q-1', 2, '3EB0SENDING');
      const before = await w.counters();

      // Act
      const results = [];
      for (const messageId of [SENT_ID, '3EB0STALLED', '3EB0SENDING', SENT_ID])
        results.push((await applyGatewayEvents(w.deps, instance, receipt('server_ack', messageId))).result);

      // Assess
      expect(results).toEqual(['applied', 'applied', 'retry_later', 'ignored']);
      const ackedAt = '2026-01-10T11:59:59.000Z';
      expect(await w.contact(0)).toMatchObject({ status: 'sent', serverAckAt: ackedAt });
      expect(await w.contact(1)).toMatchObject({ status: 'sent', serverAckAt: ackedAt });
      expect(await w.contact(2)).toMatchObject({ status: 'sending' });
      expect((await w.contact(2))?.serverAckAt).toBeUndefined();
      expect(changes(before, await w.counters())).toEqual({ contactsStalled: -1 });
      expect(await w.figures()).toEqual([]);
      expect(w.events).toEqual([]);
    });
  });

  describe('replies', () => {
    it('matches a reply without the 9th digit to the billing message, counts it once and opts the phone out', async () => {
      // Prepare
      const w = await world();
      const before = await w.counters();
      const parar = reply({ text: 'PARAR' });

      // Act
      const first = await applyGatewayEvents(w.deps, instance, parar);
      const again = await applyGatewayEvents(w.deps, instance, parar);

      // Assess
      expect([first.result, again.result]).toEqual(['applied', 'applied']);
      expect(await w.message('3A0001')).toMatchObject({
        direction: 'inbound',
        phone: PHONE,
        queueId: 'q-1',
        contactPosition: 0,
      });
      expect(await w.contact()).toMatchObject({ repliedAt: NOW.toISOString() });
      expect(changes(before, await w.counters())).toEqual({ contactsReplied: 1 });
      expect(await w.figures()).toEqual([{ hour: '12', opted_out: 1, replied: 1 }]);
      expect(w.metrics).toEqual(['replied']);
      const optOuts = await w.store.listOptOuts('acme', { limit: 10 });
      expect(optOuts.items.map((o) => [o.phone, o.source])).toEqual([[PHONE, 'reply']]);
      expect(w.events[0]).toMatchObject({ name: 'replied', reply: { text: 'PARAR', intent: 'opt_out' } });
    });

    it("keeps a reply for the tenant's retention, counted from its date", async () => {
      // Prepare
      const w = await world();

      // Act
      await applyGatewayEvents(w.deps, instance, reply({ text: 'vou pagar amanhã' }));

      // Assess: the tenant keeps 30 days; the reply is dated by its event (NOW), so it is gone at 2026-02-09T12:00Z
      w.clock.set('2026-02-09T11:59:59.999Z');
      expect(await w.message('3A0001')).toMatchObject({ text: 'vou pagar amanhã' });
      w.clock.set('2026-02-09T12:00:00.000Z');
      expect(await w.message('3A0001')).toBeUndefined();
    });

    it('matches a reply to the message it quotes, dated after it, and shows one without text by its type', async () => {
      // Prepare: the quoted message (q-0, position 3) is older than the phone's latest (q-2), and
      // "newer" than the reply's clock
      const w = await world();
      await w.addQueue('q-0', ['+5531900000000', '+5531900000001', '+5531900000002', PHONE]);
      await w.send('q-0', 3, '3EB0QUOTED', '2026-01-10T12:00:05.000Z');
      await w.addQueue('q-2', [PHONE]);
      await w.send('q-2', 0, '3EB0LATEST', '2026-01-10T12:00:10.000Z');

      // Act
      const outcome = await applyGatewayEvents(
        w.deps,
        instance,
        reply({ text: '', contentType: 'imageMessage', quotedMessageId: '3EB0QUOTED' }),
      );

      // Assess
      expect(outcome.result).toBe('applied');
      expect(await w.message('3A0001')).toMatchObject({
        text: '[imageMessage]',
        queueId: 'q-0',
        contactPosition: 3,
        at: '2026-01-10T12:00:05.001Z',
      });
      expect(await w.contact(3, 'q-0')).toMatchObject({ repliedAt: '2026-01-10T12:00:05.001Z' });
      expect((await w.contact(0, 'q-2'))?.repliedAt).toBeUndefined();
      expect(w.events[0]).toMatchObject({ queueId: 'q-0', contactPosition: 3, reply: { text: '' } });
    });

    it('keeps an unmatched reply from a hidden phone as an inbound message without counting it', async () => {
      // Prepare
      const w = await world();
      const before = await w.counters();

      // Act
      const outcome = await applyGatewayEvents(
        w.deps,
        instance,
        reply({ messageId: '3A0002', fromPhone: undefined, sender: '123456789012345@lid' }),
      );
      const echo = await applyGatewayEvents(
        w.deps,
        instance,
        webhook(ignoredEvent('sent_from_linked_phone')),
      );

      // Assess
      expect([outcome.result, echo.result]).toEqual(['ignored', 'ignored']);
      expect(outcome.reason).toBe('unmatched_reply');
      expect(await w.message('3A0002')).toMatchObject({ phone: '123456789012345@lid', queueId: null });
      const hidden = await w.store.listMessages('acme', '123456789012345@lid', 20);
      expect(hidden.map((m) => m.id)).toEqual(['3A0002']);
      const billed = await w.store.listMessages('acme', PHONE, 20);
      expect(billed.map((m) => m.id)).toEqual([SENT_ID]);
      expect((await w.contact())?.repliedAt).toBeUndefined();
      expect(changes(before, await w.counters())).toEqual({});
      expect(await w.figures()).toEqual([]);
    });

    describe('a reply seconds after a send, while the phone history (an index) may not show it yet', () => {
      /** A pump of the instance took its lease two minutes before NOW, until `until` (a minute after NOW). */
      const holdLease = (w: Awaited<ReturnType<typeof world>>, until = '2026-01-10T12:01:00.000Z') =>
        w.store.acquireInstanceLease(
          'acme',
          instance.id,
          { owner: 'pump-1', queueId: 'q-2' },
          '2026-01-10T11:58:00.000Z',
          until,
        );
      const seconds = (n: number) => new Date(NOW.getTime() + n * 1000);

      it('asks the gateway to retry, writing nothing, and matches the new send on the retry', async () => {
        // Prepare: a pump sends to PHONE again at 11:59:59.500 (q-2); the history does not show it yet
        const w = await world();
        await holdLease(w);
        const before = await w.counters();
        const greeting = reply({ text: 'Olá! Estamos fora do horário.', sentAt: NOW });

        // Act
        const first = await applyGatewayEvents(w.deps, instance, greeting);
        await w.addQueue('q-2', [PHONE]);
        await w.send('q-2', 0, '3EB0NEW', '2026-01-10T11:59:59.500Z');
        w.clock.set(seconds(5).toISOString());
        const retried = await applyGatewayEvents(w.deps, instance, greeting);

        // Assess
        expect(first).toMatchObject({
          result: 'retry_later',
          detail: expect.stringMatching(/phone history/),
        });
        expect(retried.result).toBe('applied');
        expect(await w.message('3A0001')).toMatchObject({ queueId: 'q-2', contactPosition: 0 });
        expect((await w.contact(0, 'q-1'))?.repliedAt).toBeUndefined();
        expect(await w.contact(0, 'q-2')).toMatchObject({ repliedAt: NOW.toISOString() });
        expect(changes(before, await w.counters())).toEqual({});
        expect(w.events.map((e) => [e.name, e.queueId])).toEqual([['replied', 'q-2']]);
      });

      it('trusts the history when it shows a send from those seconds, when the instance sent none, or when the reply is older', async () => {
        // Prepare: four worlds where the phone's latest billing message in the history is q-1's (a
        // day old) unless a newer one is recorded
        const showsNewSend = await world();
        await holdLease(showsNewSend);
        await showsNewSend.addQueue('q-2', [PHONE]);
        await showsNewSend.send('q-2', 0, '3EB0NEW', '2026-01-10T11:59:59.000Z');
        const leaseFree = await world();
        await holdLease(leaseFree);
        await leaseFree.store.releaseInstanceLease(
          'acme',
          instance.id,
          'pump-1',
          '2026-01-10T11:59:55.000Z',
          'q-2',
        );
        const olderReply = await world();
        await holdLease(olderReply);
        const undated = await world();
        await holdLease(undated);

        // Act
        const outcomes = await Promise.all([
          applyGatewayEvents(showsNewSend.deps, instance, reply({ sentAt: NOW })),
          applyGatewayEvents(leaseFree.deps, instance, reply({ sentAt: NOW })),
          applyGatewayEvents(olderReply.deps, instance, reply({ sentAt: seconds(-4) })),
          applyGatewayEvents(undated.deps, instance, reply({ sentAt: undefined })),
        ]);

        // Assess
        expect(outcomes.map((o) => o.result)).toEqual(['applied', 'applied', 'applied', 'applied']);
        expect(await showsNewSend.message('3A0001')).toMatchObject({ queueId: 'q-2' });
        for (const w of [leaseFree, olderReply, undated])
          expect(await w.message('3A0001')).toMatchObject({ queueId: 'q-1', contactPosition: 0 });
      });

      it('asks again while the lease of a pump that died has not ended, and not for a reply that quotes its message', async () => {
        // Prepare: a lease that ends 2.5 s before NOW (its pump died), and one that ended 4 s before
        const w = await world();
        await holdLease(w, '2026-01-10T11:59:57.500Z');
        const longDead = await world();
        await holdLease(longDead, '2026-01-10T11:59:56.000Z');

        // Act
        const unquoted = await applyGatewayEvents(w.deps, instance, reply({ sentAt: NOW }));
        const quoted = await applyGatewayEvents(
          w.deps,
          instance,
          reply({ messageId: '3A0002', sentAt: NOW, quotedMessageId: SENT_ID }),
        );
        const afterIt = await applyGatewayEvents(longDead.deps, instance, reply({ sentAt: NOW }));

        // Assess
        expect([unquoted.result, quoted.result, afterIt.result]).toEqual([
          'retry_later',
          'applied',
          'applied',
        ]);
        expect(await w.message('3A0001')).toBeUndefined();
        expect(await w.message('3A0002')).toMatchObject({ queueId: 'q-1' });
      });
    });

    it('logs an unmatched reply with the phone masked, never whole', async () => {
      // Prepare
      const w = await world();

      // Act
      const outcome = await applyGatewayEvents(
        w.deps,
        instance,
        reply({ messageId: '3A0009', fromPhone: '+5511912345678', sender: '+5511912345678' }),
      );

      // Assess
      expect(outcome.reason).toBe('unmatched_reply');
      const logged = JSON.stringify(w.debugs);
      expect(logged).toContain('5678');
      expect(logged).not.toContain('11912345678');
    });
  });

  describe('ignored webhooks', () => {
    it('warns and counts by reason every webhook it cannot use, with what the gateway called it', async () => {
      // Prepare
      const w = await world();
      const unusable: WebhookIgnoredReason[] = [
        'unreadable_body',
        'unknown_event',
        'missing_data',
        'unknown_status',
        'unknown_connection_state',
      ];

      // Act
      const outcomes = [];
      for (const reason of unusable)
        outcomes.push(await applyGatewayEvents(w.deps, instance, webhook(ignoredEvent(reason))));
      outcomes.push(
        await applyGatewayEvents(
          w.deps,
          instance,
          receipt('read', '3EB0NEVERSENT', new Date('2026-01-10T11:55:00.000Z')),
        ),
      );

      // Assess
      const reasons = [...unusable, 'unknown_message'];
      expect(outcomes.map((o) => [o.result, o.reason])).toEqual(reasons.map((r) => ['ignored', r]));
      expect(w.metrics).toEqual(reasons.map((r) => `ignored:${r}`));
      expect(w.warnings.map((warning) => warning.reason)).toEqual(reasons);
      expect(w.warnings[0]).toEqual({
        tenantId: 'acme',
        instanceId: 'inst-1',
        event: 'messages.update',
        envelopeInstance: 'inst-1',
        reason: 'unreadable_body',
        detail: 'because unreadable_body',
      });
      expect(w.debugs).toEqual([]);
      expect((await w.contact())?.status).toBe('sent');
    });

    it('counts routine ignores too, logged at debug only', async () => {
      // Prepare
      const w = await world();
      const routine: WebhookIgnoredReason[] = [
        'own_send',
        'status_not_tracked',
        'incoming_message_receipt',
        'sent_from_linked_phone',
        'group_or_broadcast',
      ];

      // Act
      for (const reason of routine) await applyGatewayEvents(w.deps, instance, webhook(ignoredEvent(reason)));

      // Assess
      expect(w.metrics).toEqual(routine.map((r) => `ignored:${r}`));
      expect(w.debugs.map((d) => d.reason)).toEqual(routine);
      expect(w.warnings).toEqual([]);
    });

    it('answers for a webhook of several events: a retry if any asks for one, else applied if any was', async () => {
      // Prepare
      const w = await world();
      const delivered = receipt('delivered').events[0];
      const inFlight = receipt('read', '3EB0INFLIGHT').events[0];

      // Act
      const mixed = await applyGatewayEvents(w.deps, instance, webhook(ignoredEvent('own_send'), delivered));
      const retried = await applyGatewayEvents(w.deps, instance, webhook(delivered, inFlight));
      const none = await applyGatewayEvents(
        w.deps,
        instance,
        webhook(ignoredEvent('own_send'), ignoredEvent('unknown_event')),
      );

      // Assess
      expect([mixed.result, retried.result, none.result]).toEqual(['applied', 'retry_later', 'ignored']);
      expect(none.reason).toBe('own_send');
      expect(w.metrics).toEqual([
        'ignored:own_send',
        'delivered',
        'ignored:duplicate',
        'ignored:own_send',
        'ignored:unknown_event',
      ]);
    });
  });

  describe('connection updates', () => {
    /**
     * Queues of the given statuses, created at NOW as `q-<status>-<i>`, all of the instance but the
     * first (of another instance), which is in `connectionState`.
     */
    const connectionWorld = async (statuses: QueueStatus[], connectionState: ConnectionState) => {
      const w = await bareWorld({ connectionState });
      const ids = statuses.map((status, i) => `q-${status}-${i}`);
      for (const [i, status] of statuses.entries())
        await w.addQueue(`q-${status}-${i}`, [PHONE], {
          status,
          instanceId: i === 0 ? 'other-instance' : instance.id,
          createdAt: NOW.toISOString(),
        });
      const queues = async () => Promise.all(ids.map((id) => w.store.getQueue(id)));
      const connection = async () => (await w.store.getInstance('acme', instance.id))?.connectionState;
      return { ...w, queues, connection };
    };

    it('stops the instance’s open queues on close, quoting the gateway, and has the pump re-check in a minute', async () => {
      // Prepare
      const c = await connectionWorld(
        ['running', 'running', 'pending', 'scheduled', 'paused', 'instance_down'],
        'open',
      );

      // Act
      const outcome = await applyGatewayEvents(
        c.deps,
        instance,
        webhook({ kind: 'connection', state: 'close', reportedAs: 'connection.update: refused' }),
      );

      // Assess
      expect(outcome).toEqual({ result: 'applied', detail: 'instance close: 3 queue(s) stopped' });
      expect(await c.connection()).toBe('close');
      const queues = await c.queues();
      expect(queues.map((q) => q?.status)).toEqual([
        'running',
        'instance_down',
        'instance_down',
        'instance_down',
        'paused',
        'instance_down',
      ]);
      expect(queues[1]?.pauseReason).toBe(
        'Instância WhatsApp desconectada (connection.update: refused); nova verificação em 1 min',
      );
      expect(queues[1]?.nextRunAt).toBe(new Date(NOW.getTime() + 60_000).toISOString());
      expect(c.scheduled.map((s) => s.at)).toEqual(
        Array(3).fill(new Date(NOW.getTime() + 60_000).toISOString()),
      );
      expect(c.scheduled.map((s) => s.queueId).sort()).toEqual([
        'q-pending-2',
        'q-running-1',
        'q-scheduled-3',
      ]);
      expect(c.published).toEqual([]);
    });

    it('resumes the instance’s instance_down queues at once on open, and only remembers other states', async () => {
      // Prepare: the instance was down; the store's own write of its state, recorded as it goes
      const c = await connectionWorld(['instance_down', 'instance_down', 'paused'], 'close');
      const states: ConnectionState[] = [];
      const remember = c.store.setInstanceConnectionState;
      c.store.setInstanceConnectionState = async (tenantId, instanceId, state) => {
        states.push(state);
        await remember(tenantId, instanceId, state);
      };

      // Act
      const open = await applyGatewayEvents(
        c.deps,
        instance,
        webhook({ kind: 'connection', state: 'open', reportedAs: 'connection.update: open' }),
      );
      const connecting = await applyGatewayEvents(
        c.deps,
        instance,
        webhook({ kind: 'connection', state: 'connecting', reportedAs: 'connection.update: connecting' }),
      );

      // Assess
      expect([open.detail, connecting.detail]).toEqual([
        'instance open: 1 queue(s) resumed',
        'instance connecting',
      ]);
      expect(states).toEqual(['open', 'connecting']);
      expect(await c.connection()).toBe('connecting');
      expect((await c.queues()).map((q) => q?.status)).toEqual(['instance_down', 'pending', 'paused']);
      expect(c.published.map((item) => item.queueId)).toEqual(['q-instance_down-1']);
      expect(c.scheduled).toEqual([]);
    });
  });
});
