import { describe, expect, it } from 'vitest';
import {
  type IngestDeps,
  ingestGatewayEvent,
  isWebhookAuthentic,
  normalizeEventName,
  receiptDeltas,
  signHs256Jwt,
  verifyHs256Jwt,
} from '../../lib/app/ingest-gateway-event.ts';
import { phoneSpellings } from '../../lib/app/opt-outs.ts';
import type { ContactStatus, ConversationMessage, OptOut, WhatsAppInstance } from '../../lib/domain/types.ts';
import type { BillingEventInput } from '../../lib/ports/billing-events.ts';

const NOW = new Date('2026-01-10T12:00:00.000Z');
const SECRET = 'instance-secret';

const instance: WhatsAppInstance = {
  id: 'inst-1',
  tenantId: 'acme',
  instanceName: 'inst-1',
  baseUrl: 'http://evolution.local',
  credentialRef: 'plain:k',
  webhookSecret: SECRET,
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
  let status = contactStatus;
  let replied = false;
  const deps = {
    clock: { now: () => NOW },
    logger: { info: () => undefined },
    metrics: {
      messageDelivered: () => void metrics.push('delivered'),
      messageRead: () => void metrics.push('read'),
      replyReceived: () => void metrics.push('replied'),
    },
    events: { emit: async (e: BillingEventInput) => void events.push(e) },
    store: {
      getMessage: async (_i: string, id: string) => messages.get(id),
      listMessages: async (_t: string, phone: string) =>
        [...messages.values()].filter((m) => m.phone === phone),
      recordMessage: async (m: ConversationMessage) => void messages.set(m.id, m),
      applyReceipt: async (_q: string, _p: number, receipt: ContactStatus) => {
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
        optOuts.push(o);
        return 'created' as const;
      },
      updateQueueProgress: async (_q: string, deltas: Record<string, number>) => void progress.push(deltas),
    },
  } as unknown as IngestDeps;
  return { deps, messages, optOuts, progress, events, metrics, status: () => status };
};

const receipt = (status: string, keyId = sent.id, fromMe = true) => ({
  event: 'messages.update',
  data: { keyId, remoteJid: '553187654321@s.whatsapp.net', fromMe, status },
  date_time: '2026-01-10T11:59:59.000Z',
});

describe('ingest-gateway-event', () => {
  describe('authentication', () => {
    it('accepts the static secret header and a valid HS256 JWT, and refuses the rest', () => {
      // Prepare
      const seconds = NOW.getTime() / 1000;
      const good = signHs256Jwt({ iat: seconds, exp: seconds + 600 }, SECRET);
      const noneAlg = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${good.split('.')[1]}.`;

      // Act
      const results = [
        isWebhookAuthentic(SECRET, { 'x-webhook-secret': SECRET }, NOW),
        isWebhookAuthentic(SECRET, { authorization: `Bearer ${good}` }, NOW),
        isWebhookAuthentic(SECRET, {}, NOW),
        isWebhookAuthentic(SECRET, { 'x-webhook-secret': `${SECRET}!` }, NOW),
        isWebhookAuthentic(SECRET, { authorization: `Bearer ${signHs256Jwt({}, 'other')}` }, NOW),
        isWebhookAuthentic(SECRET, { authorization: `Bearer ${noneAlg}` }, NOW),
        isWebhookAuthentic('', { 'x-webhook-secret': '' }, NOW),
      ];

      // Assess
      expect(results).toEqual([true, true, false, false, false, false, false]);
    });

    it('refuses an expired JWT beyond a minute of leeway and one not yet valid', () => {
      // Prepare
      const seconds = NOW.getTime() / 1000;

      // Act
      const justExpired = verifyHs256Jwt(signHs256Jwt({ exp: seconds - 30 }, SECRET), SECRET, NOW);
      const expired = verifyHs256Jwt(signHs256Jwt({ exp: seconds - 61 }, SECRET), SECRET, NOW);
      const early = verifyHs256Jwt(signHs256Jwt({ nbf: seconds + 120 }, SECRET), SECRET, NOW);

      // Assess
      expect([justExpired, expired, early]).toEqual([true, false, false]);
    });
  });

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

    it('names events alike in every spelling and knows both 9th-digit spellings of a Brazilian mobile', () => {
      expect(['messages.update', 'MESSAGES_UPDATE', 'messages-update'].map(normalizeEventName)).toEqual(
        Array(3).fill('messages.update'),
      );
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
      const read = await ingestGatewayEvent(f.deps, instance, receipt('READ'));
      const late = await ingestGatewayEvent(f.deps, instance, receipt('DELIVERY_ACK'));

      // Assess
      expect([read.result, late.result]).toEqual(['applied', 'ignored']);
      expect(f.status()).toBe('read');
      expect(f.progress).toEqual([{ contactsDelivered: 1, contactsRead: 1 }]);
      expect(f.events.map((e) => e.name)).toEqual(['delivered', 'read', 'delivered']);
      expect(f.metrics).toEqual(['delivered', 'read']);
    });

    it('asks for a retry while the contact is still sending or the message is not recorded yet', async () => {
      // Prepare
      const f = fakeDeps('sending');

      // Act
      const sending = await ingestGatewayEvent(f.deps, instance, receipt('DELIVERY_ACK'));
      const unknown = await ingestGatewayEvent(f.deps, instance, receipt('DELIVERY_ACK', '3EB0NEW'));
      const stale = await ingestGatewayEvent(f.deps, instance, {
        ...receipt('DELIVERY_ACK', '3EB0NEW'),
        date_time: '2026-01-10T11:00:00.000Z',
      });

      // Assess
      expect([sending.result, unknown.result, stale.result]).toEqual([
        'retry_later',
        'retry_later',
        'ignored',
      ]);
      expect(f.progress).toEqual([]);
    });

    it('ignores receipts of incoming messages and statuses it does not track', async () => {
      // Prepare
      const f = fakeDeps();

      // Act
      const incoming = await ingestGatewayEvent(f.deps, instance, receipt('READ', sent.id, false));
      const deleted = await ingestGatewayEvent(f.deps, instance, receipt('DELETED'));

      // Assess
      expect([incoming.result, deleted.result]).toEqual(['ignored', 'ignored']);
      expect(f.status()).toBe('sent');
    });

    it('records SERVER_ACK without moving the status, and counts a stall it ends out of contacts_stalled', async () => {
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
      for (const status of ['SERVER_ACK', 'SERVER_ACK', 'SERVER_ACK', '2']) {
        results.push((await ingestGatewayEvent(f.deps, instance, receipt(status))).result);
      }

      // Assess
      expect(results).toEqual(['applied', 'applied', 'retry_later', 'ignored']);
      expect(acks).toHaveLength(4);
      expect(acks[0]).toEqual({ queueId: 'q-1', position: 0 });
      expect(f.status()).toBe('sent');
      expect(f.progress).toEqual([{ contactsStalled: -1 }]);
      expect(f.events).toEqual([]);
    });
  });

  describe('replies', () => {
    it('matches a reply without the 9th digit to the billing message, counts it once and opts the phone out', async () => {
      // Prepare
      const f = fakeDeps();
      const reply = {
        event: 'messages.upsert',
        data: {
          key: { remoteJid: '553187654321@s.whatsapp.net', fromMe: false, id: '3A0001' },
          message: { conversation: 'PARAR' },
          messageType: 'conversation',
        },
        date_time: NOW.toISOString(),
      };

      // Act
      const first = await ingestGatewayEvent(f.deps, instance, reply);
      const again = await ingestGatewayEvent(f.deps, instance, reply);

      // Assess
      expect([first.result, again.result]).toEqual(['applied', 'applied']);
      expect(f.messages.get('3A0001')).toMatchObject({
        direction: 'inbound',
        phone: sent.phone,
        queueId: 'q-1',
      });
      expect(f.progress).toEqual([{ contactsReplied: 1 }]);
      expect(f.metrics).toEqual(['replied']);
      expect(f.optOuts.map((o) => [o.phone, o.source])).toEqual([
        [sent.phone, 'reply'],
        [sent.phone, 'reply'],
      ]);
      expect(f.events[0]).toMatchObject({ name: 'replied', reply: { text: 'PARAR', intent: 'opt_out' } });
    });

    it('keeps an unmatched @lid reply as an inbound message without counting it', async () => {
      // Prepare
      const f = fakeDeps();

      // Act
      const outcome = await ingestGatewayEvent(f.deps, instance, {
        event: 'messages.upsert',
        data: {
          key: { remoteJid: '123456789012345@lid', fromMe: false, id: '3A0002' },
          message: { conversation: 'oi' },
        },
      });
      const echo = await ingestGatewayEvent(f.deps, instance, {
        event: 'messages.upsert',
        data: { key: { remoteJid: '553187654321@s.whatsapp.net', fromMe: true, id: '3A0003' }, message: {} },
      });

      // Assess
      expect([outcome.result, echo.result]).toEqual(['ignored', 'ignored']);
      expect(f.messages.get('3A0002')).toMatchObject({ phone: '123456789012345@lid', queueId: null });
      expect(f.messages.has('3A0003')).toBe(false);
      expect(f.progress).toEqual([]);
    });
  });
});
