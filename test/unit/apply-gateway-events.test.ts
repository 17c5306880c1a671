import { describe, expect, it } from 'vitest';
import { type ApplyGatewayEventsDeps, applyGatewayEvents } from '../../lib/app/apply-gateway-events.ts';
import { receiptDeltas } from '../../lib/app/apply-receipt.ts';
import { phoneSpellings } from '../../lib/app/opt-outs.ts';
import { newBillingQueue } from '../../lib/domain/billing-queue.ts';
import type {
  BillingQueue,
  ContactStatus,
  ConversationMessage,
  OptOut,
  QueueStatus,
  WhatsAppInstance,
} from '../../lib/domain/types.ts';
import type { BillingEventInput } from '../../lib/ports/billing-events.ts';
import type {
  GatewayEvent,
  GatewayReceiptStatus,
  GatewayReply,
  GatewayWebhook,
} from '../../lib/ports/gateway-events.ts';
import type { WebhookIgnoredReason } from '../../lib/ports/metrics.ts';

const NOW = new Date('2026-01-10T12:00:00.000Z');

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

const sent: ConversationMessage = {
  id: '3EB0AAA',
  tenantId: 'acme',
  phone: '+5531987654321',
  instanceId: 'inst-1',
  direction: 'outbound',
  text: 'Olá',
  at: '2026-01-09T12:00:00.000Z',
  queueId: 'q-1',
  contactPosition: 0,
  campaignId: 'c-1',
  externalId: 'e-1',
  templateType: 'overdue',
};

/** In-memory stand-ins for the ports the use case touches, recording what it did. */
const fakeDeps = (contactStatus: ContactStatus = 'sent') => {
  const messages = new Map<string, ConversationMessage>([[sent.id, sent]]);
  const optOuts: OptOut[] = [];
  const progress: Array<Record<string, number>> = [];
  const events: BillingEventInput[] = [];
  const metrics: string[] = [];
  const warnings: Array<Record<string, unknown>> = [];
  const debugs: Array<Record<string, unknown>> = [];
  const receiptErrors: Array<string | undefined> = [];
  /** The expiry each recorded message was given, by id. */
  const expiries = new Map<string, string>();
  /** The tenant's figures added, each with the hour it went to. */
  const figures: Array<Record<string, number | string>> = [];
  let status = contactStatus;
  let replied = false;
  const deps = {
    clock: { now: () => NOW },
    logger: {
      info: () => undefined,
      debug: (_m: string, fields: Record<string, unknown>) => void debugs.push(fields),
      warn: (_m: string, fields: Record<string, unknown>) => void warnings.push(fields),
    },
    metrics: {
      messageDelivered: () => void metrics.push('delivered'),
      messageRead: () => void metrics.push('read'),
      replyReceived: () => void metrics.push('replied'),
      webhookIgnored: ({ reason }: { reason: string }) => void metrics.push(`ignored:${reason}`),
    },
    events: { emit: async (e: BillingEventInput) => void events.push(e) },
    store: {
      // One tenant and instance: the id alone finds a message.
      getMessage: async (_t: string, _i: string, id: string) => messages.get(id),
      listMessages: async (_t: string, phone: string) =>
        [...messages.values()].filter((m) => m.phone === phone),
      recordMessage: async (m: ConversationMessage, expiresAt: string) => {
        if (messages.has(m.id)) return false;
        messages.set(m.id, m);
        expiries.set(m.id, expiresAt);
        return true;
      },
      getTenant: async (tenantId: string) => ({ id: tenantId, config: { retentionDays: 30 } }),
      applyReceipt: async (_q: string, _p: number, receipt: ContactStatus, _at: string, error?: string) => {
        receiptErrors.push(error);
        const order: ContactStatus[] = ['sent', 'delivered', 'read'];
        const forward =
          receipt === 'failed' ? status === 'sent' : order.indexOf(receipt) > order.indexOf(status);
        if (status === 'sending' || !forward) return { applied: false as const, current: status };
        const previous = status;
        status = receipt;
        return { applied: true as const, previous };
      },
      markContactReplied: async () => {
        const first = !replied;
        replied = true;
        return first;
      },
      putOptOut: async (o: OptOut) => {
        const known = optOuts.some((existing) => existing.phone === o.phone);
        optOuts.push(o);
        return known ? ('exists' as const) : ('created' as const);
      },
      addTenantFigures: async (_t: string, hourStart: Date, added: Record<string, number>) =>
        void figures.push({ hour: hourStart.toISOString().slice(11, 13), ...added }),
      addToQueueCounters: async (_q: string, deltas: Record<string, number>) => {
        progress.push(deltas);
        return true;
      },
    },
  } as unknown as ApplyGatewayEventsDeps;
  return {
    deps,
    messages,
    optOuts,
    progress,
    events,
    metrics,
    warnings,
    debugs,
    receiptErrors,
    expiries,
    figures,
    status: () => status,
  };
};

const LABEL = { event: 'messages.update', instance: 'inst-1' };
/** One webhook reporting `events`. */
const webhook = (first: GatewayEvent, ...more: GatewayEvent[]): GatewayWebhook => ({
  events: [first, ...more],
  label: LABEL,
});
const receipt = (status: GatewayReceiptStatus, messageId = sent.id, at = new Date(NOW.getTime() - 1000)) =>
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
      const f = fakeDeps();

      // Act
      const read = await applyGatewayEvents(f.deps, instance, receipt('read'));
      const late = await applyGatewayEvents(f.deps, instance, receipt('delivered'));

      // Assess
      expect([read.result, late.result]).toEqual(['applied', 'ignored']);
      expect(late.reason).toBe('duplicate');
      expect(f.status()).toBe('read');
      expect(f.progress).toEqual([{ contactsDelivered: 1, contactsRead: 1 }]);
      expect(f.figures).toEqual([{ hour: '11', delivered: 1, read: 1 }]);
      expect(f.events.map((e) => e.name)).toEqual(['delivered', 'read', 'delivered']);
      expect(f.metrics).toEqual(['delivered', 'read', 'ignored:duplicate']);
      expect(f.warnings).toEqual([]);
    });

    it('emits only read for a read after the delivery, and both again for a duplicate read', async () => {
      // Prepare
      const f = fakeDeps();

      // Act
      await applyGatewayEvents(f.deps, instance, receipt('delivered'));
      await applyGatewayEvents(f.deps, instance, receipt('read'));
      const duplicate = await applyGatewayEvents(f.deps, instance, receipt('read'));

      // Assess: the delivery's receipt emitted `delivered`; a duplicate re-emits all (a crash's gap)
      expect(duplicate.reason).toBe('duplicate');
      expect(f.events.map((e) => e.name)).toEqual(['delivered', 'read', 'delivered', 'read']);
    });

    it('moves a failure out of sent, keeps the gateway’s account of it and tells the ERP', async () => {
      // Prepare
      const f = fakeDeps();

      // Act
      const outcome = await applyGatewayEvents(f.deps, instance, receipt('failed'));

      // Assess
      expect(outcome.result).toBe('applied');
      expect(f.status()).toBe('failed');
      expect(f.receiptErrors).toEqual(['falhou (ERROR)']);
      expect(f.progress).toEqual([{ contactsSent: -1, contactsFailed: 1 }]);
      expect(f.figures).toEqual([{ hour: '11', failed: 1 }]);
      expect(f.events).toEqual([
        expect.objectContaining({
          name: 'failed',
          providerMessageId: sent.id,
          error: { code: 'DELIVERY_FAILED', message: 'WhatsApp informou falha na entrega' },
        }),
      ]);
    });

    it('asks for a retry while the contact is still sending or the message is not recorded yet', async () => {
      // Prepare
      const f = fakeDeps('sending');

      // Act
      const sending = await applyGatewayEvents(f.deps, instance, receipt('delivered'));
      const unknown = await applyGatewayEvents(f.deps, instance, receipt('delivered', '3EB0NEW'));
      const stale = await applyGatewayEvents(
        f.deps,
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
      expect(f.progress).toEqual([]);
    });

    it('records a server ack without moving the status, and counts a stall it ends out of contacts_stalled', async () => {
      // Prepare
      const f = fakeDeps();
      const acks: Array<{ queueId: string; position: number }> = [];
      const answers = [
        { recorded: true as const, wasStalled: false },
        { recorded: true as const, wasStalled: true },
        { recorded: false as const, current: 'sending' as const },
        { recorded: false as const, current: 'sent' as const },
      ];
      Object.assign(f.deps.store, {
        recordServerAck: async (queueId: string, position: number) => {
          acks.push({ queueId, position });
          return answers.shift();
        },
      });

      // Act
      const results = [];
      for (let i = 0; i < 4; i += 1)
        results.push((await applyGatewayEvents(f.deps, instance, receipt('server_ack'))).result);

      // Assess
      expect(results).toEqual(['applied', 'applied', 'retry_later', 'ignored']);
      expect(acks).toHaveLength(4);
      expect(acks[0]).toEqual({ queueId: 'q-1', position: 0 });
      expect(f.status()).toBe('sent');
      expect(f.progress).toEqual([{ contactsStalled: -1 }]);
      expect(f.figures).toEqual([]);
      expect(f.events).toEqual([]);
    });
  });

  describe('replies', () => {
    it('matches a reply without the 9th digit to the billing message, counts it once and opts the phone out', async () => {
      // Prepare
      const f = fakeDeps();
      const parar = reply({ text: 'PARAR' });

      // Act
      const first = await applyGatewayEvents(f.deps, instance, parar);
      const again = await applyGatewayEvents(f.deps, instance, parar);

      // Assess
      expect([first.result, again.result]).toEqual(['applied', 'applied']);
      expect(f.messages.get('3A0001')).toMatchObject({
        direction: 'inbound',
        phone: sent.phone,
        queueId: 'q-1',
      });
      expect(f.progress).toEqual([{ contactsReplied: 1 }]);
      expect(f.figures).toEqual([
        { hour: '12', opted_out: 1 },
        { hour: '12', replied: 1 },
      ]);
      expect(f.metrics).toEqual(['replied']);
      expect(f.optOuts.map((o) => [o.phone, o.source])).toEqual([
        [sent.phone, 'reply'],
        [sent.phone, 'reply'],
      ]);
      expect(f.events[0]).toMatchObject({ name: 'replied', reply: { text: 'PARAR', intent: 'opt_out' } });
    });

    it("keeps a reply for the tenant's retention, counted from its date", async () => {
      // Prepare
      const f = fakeDeps();

      // Act
      await applyGatewayEvents(f.deps, instance, reply({ text: 'vou pagar amanhã' }));

      // Assess: the tenant keeps 30 days; the reply is dated by its event (NOW)
      expect(f.expiries.get('3A0001')).toBe('2026-02-09T12:00:00.000Z');
    });

    it('matches a reply to the message it quotes, dated after it, and shows one without text by its type', async () => {
      // Prepare: the quoted message is older than the phone's latest, and "newer" than the reply's clock
      const f = fakeDeps();
      const quoted: ConversationMessage = {
        ...sent,
        id: '3EB0QUOTED',
        at: '2026-01-10T12:00:05.000Z',
        queueId: 'q-0',
        contactPosition: 3,
      };
      f.messages.set(quoted.id, quoted);

      // Act
      const outcome = await applyGatewayEvents(
        f.deps,
        instance,
        reply({ text: '', contentType: 'imageMessage', quotedMessageId: quoted.id }),
      );

      // Assess
      expect(outcome.result).toBe('applied');
      expect(f.messages.get('3A0001')).toMatchObject({
        text: '[imageMessage]',
        queueId: 'q-0',
        contactPosition: 3,
        at: '2026-01-10T12:00:05.001Z',
      });
      expect(f.events[0]).toMatchObject({ queueId: 'q-0', contactPosition: 3, reply: { text: '' } });
    });

    it('keeps an unmatched reply from a hidden phone as an inbound message without counting it', async () => {
      // Prepare
      const f = fakeDeps();

      // Act
      const outcome = await applyGatewayEvents(
        f.deps,
        instance,
        reply({ messageId: '3A0002', fromPhone: undefined, sender: '123456789012345@lid' }),
      );
      const echo = await applyGatewayEvents(
        f.deps,
        instance,
        webhook(ignoredEvent('sent_from_linked_phone')),
      );

      // Assess
      expect([outcome.result, echo.result]).toEqual(['ignored', 'ignored']);
      expect(outcome.reason).toBe('unmatched_reply');
      expect(f.messages.get('3A0002')).toMatchObject({ phone: '123456789012345@lid', queueId: null });
      expect(f.messages.size).toBe(2);
      expect(f.progress).toEqual([]);
      expect(f.figures).toEqual([]);
    });

    it('logs an unmatched reply with the phone masked, never whole', async () => {
      // Prepare
      const f = fakeDeps();

      // Act
      const outcome = await applyGatewayEvents(
        f.deps,
        instance,
        reply({ messageId: '3A0009', fromPhone: '+5511912345678', sender: '+5511912345678' }),
      );

      // Assess
      expect(outcome.reason).toBe('unmatched_reply');
      const logged = JSON.stringify(f.debugs);
      expect(logged).toContain('5678');
      expect(logged).not.toContain('11912345678');
    });
  });

  describe('ignored webhooks', () => {
    it('warns and counts by reason every webhook it cannot use, with what the gateway called it', async () => {
      // Prepare
      const f = fakeDeps();
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
        outcomes.push(await applyGatewayEvents(f.deps, instance, webhook(ignoredEvent(reason))));
      outcomes.push(
        await applyGatewayEvents(
          f.deps,
          instance,
          receipt('read', '3EB0NEVERSENT', new Date('2026-01-10T11:55:00.000Z')),
        ),
      );

      // Assess
      const reasons = [...unusable, 'unknown_message'];
      expect(outcomes.map((o) => [o.result, o.reason])).toEqual(reasons.map((r) => ['ignored', r]));
      expect(f.metrics).toEqual(reasons.map((r) => `ignored:${r}`));
      expect(f.warnings.map((w) => w.reason)).toEqual(reasons);
      expect(f.warnings[0]).toEqual({
        tenantId: 'acme',
        instanceId: 'inst-1',
        event: 'messages.update',
        envelopeInstance: 'inst-1',
        reason: 'unreadable_body',
        detail: 'because unreadable_body',
      });
      expect(f.debugs).toEqual([]);
      expect(f.status()).toBe('sent');
    });

    it('counts routine ignores too, logged at debug only', async () => {
      // Prepare
      const f = fakeDeps();
      const routine: WebhookIgnoredReason[] = [
        'own_send',
        'status_not_tracked',
        'incoming_message_receipt',
        'sent_from_linked_phone',
        'group_or_broadcast',
      ];

      // Act
      for (const reason of routine) await applyGatewayEvents(f.deps, instance, webhook(ignoredEvent(reason)));

      // Assess
      expect(f.metrics).toEqual(routine.map((r) => `ignored:${r}`));
      expect(f.debugs.map((d) => d.reason)).toEqual(routine);
      expect(f.warnings).toEqual([]);
    });

    it('answers for a webhook of several events: a retry if any asks for one, else applied if any was', async () => {
      // Prepare
      const f = fakeDeps();
      const delivered = receipt('delivered').events[0];
      const inFlight = receipt('read', '3EB0INFLIGHT').events[0];

      // Act
      const mixed = await applyGatewayEvents(f.deps, instance, webhook(ignoredEvent('own_send'), delivered));
      const retried = await applyGatewayEvents(f.deps, instance, webhook(delivered, inFlight));
      const none = await applyGatewayEvents(
        f.deps,
        instance,
        webhook(ignoredEvent('own_send'), ignoredEvent('unknown_event')),
      );

      // Assess
      expect([mixed.result, retried.result, none.result]).toEqual(['applied', 'retry_later', 'ignored']);
      expect(none.reason).toBe('own_send');
      expect(f.metrics).toEqual([
        'ignored:own_send',
        'delivered',
        'ignored:duplicate',
        'ignored:own_send',
        'ignored:unknown_event',
      ]);
    });
  });

  describe('connection updates', () => {
    /** Queues of the instance (and one of another instance) in a store that records their moves. */
    const connectionDeps = (statuses: QueueStatus[]) => {
      const f = fakeDeps();
      const queues = statuses.map((status, i) => ({
        ...newBillingQueue({
          id: `q-${status}-${i}`,
          tenantId: 'acme',
          campaignId: 'c',
          externalId: `e-${i}`,
          templateType: 'overdue',
          instanceId: i === 0 ? 'other-instance' : instance.id,
          totalContacts: 1,
          createdAt: NOW.toISOString(),
        }),
        status,
      }));
      const states: string[] = [];
      const scheduled: Array<{ name: string; at: Date }> = [];
      const published: string[] = [];
      Object.assign(f.deps, {
        scheduler: { schedule: async (name: string, at: Date) => void scheduled.push({ name, at }) },
        workQueue: { publish: async (item: { queueId: string }) => void published.push(item.queueId) },
        metrics: { ...f.deps.metrics, queueStatusChanged: () => undefined },
      });
      Object.assign(f.deps.store, {
        setInstanceConnectionState: async (_t: string, _i: string, state: string) => void states.push(state),
        listQueues: async (_t: string, page: { status: QueueStatus }) => ({
          items: queues.filter((q) => q.status === page.status),
          nextCursor: null,
        }),
        transitionQueue: async (
          id: string,
          from: QueueStatus[],
          to: QueueStatus,
          fields: Partial<BillingQueue>,
        ): Promise<BillingQueue | undefined> => {
          const queue = queues.find((q) => q.id === id);
          if (!queue || !from.includes(queue.status)) return undefined;
          Object.assign(queue, fields, { status: to });
          return queue;
        },
        nextPublishGeneration: async () => 1,
      });
      return { ...f, queues, states, scheduled, published };
    };

    it('stops the instance’s open queues on close, quoting the gateway, and has the pump re-check in a minute', async () => {
      // Prepare
      const c = connectionDeps(['running', 'running', 'pending', 'scheduled', 'paused', 'instance_down']);

      // Act
      const outcome = await applyGatewayEvents(
        c.deps,
        instance,
        webhook({ kind: 'connection', state: 'close', reportedAs: 'connection.update: refused' }),
      );

      // Assess
      expect(outcome).toEqual({ result: 'applied', detail: 'instance close: 3 queue(s) stopped' });
      expect(c.states).toEqual(['close']);
      expect(c.queues.map((q) => q.status)).toEqual([
        'running',
        'instance_down',
        'instance_down',
        'instance_down',
        'paused',
        'instance_down',
      ]);
      expect(c.queues[1]?.pauseReason).toBe(
        'Instância WhatsApp desconectada (connection.update: refused); nova verificação em 1 min',
      );
      expect(c.scheduled.map((s) => s.at.getTime())).toEqual(Array(3).fill(NOW.getTime() + 60_000));
      expect(c.published).toEqual([]);
    });

    it('resumes the instance’s instance_down queues at once on open, and only remembers other states', async () => {
      // Prepare
      const c = connectionDeps(['instance_down', 'instance_down', 'paused']);

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
      expect(c.states).toEqual(['open', 'connecting']);
      expect(c.queues.map((q) => q.status)).toEqual(['instance_down', 'pending', 'paused']);
      expect(c.published).toEqual(['q-instance_down-1']);
      expect(c.scheduled).toEqual([]);
    });
  });
});
