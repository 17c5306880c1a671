import { describe, expect, it } from 'vitest';
import {
  eventInstant,
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
  const warnings: Array<Record<string, unknown>> = [];
  let status = contactStatus;
  let replied = false;
  const deps = {
    clock: { now: () => NOW },
    logger: {
      info: () => undefined,
      debug: () => undefined,
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
  return { deps, messages, optOuts, progress, events, metrics, warnings, status: () => status };
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
      const early = verifyHs256Jwt(
        signHs256Jwt({ nbf: seconds + 120, exp: seconds + 600 }, SECRET),
        SECRET,
        NOW,
      );

      // Assess
      expect([justExpired, expired, early]).toEqual([true, false, false]);
    });

    it('accepts the token real Evolution signs (jwt_key: iat, exp 10 minutes ahead, app, action)', () => {
      // Prepare: the claims of Evolution's WebhookController.generateJwtToken
      const seconds = Math.floor(NOW.getTime() / 1000);
      const evolution = signHs256Jwt(
        { iat: seconds, exp: seconds + 600, app: 'evolution', action: 'webhook' },
        SECRET,
      );

      // Act
      const accepted = isWebhookAuthentic(SECRET, { authorization: `Bearer ${evolution}` }, NOW);

      // Assess
      expect(accepted).toBe(true);
    });

    it('refuses a JWT without exp, with a non-numeric exp, or expiring more than an hour ahead', () => {
      // Prepare
      const seconds = NOW.getTime() / 1000;
      const verify = (claims: Record<string, unknown>) =>
        verifyHs256Jwt(signHs256Jwt(claims, SECRET), SECRET, NOW);

      // Act
      const results = {
        noExp: verify({ iat: seconds }),
        stringExp: verify({ exp: String(seconds + 600) }),
        aYear: verify({ exp: seconds + 365 * 86_400 }),
        justOverAnHour: verify({ exp: seconds + 3600 + 61 }),
        anHourAndLeeway: verify({ exp: seconds + 3600 + 60 }),
        anHour: verify({ exp: seconds + 3600 }),
      };

      // Assess
      expect(results).toEqual({
        noExp: false,
        stringExp: false,
        aYear: false,
        justOverAnHour: false,
        anHourAndLeeway: true,
        anHour: true,
      });
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
      expect(late.reason).toBe('duplicate');
      expect(f.status()).toBe('read');
      expect(f.progress).toEqual([{ contactsDelivered: 1, contactsRead: 1 }]);
      expect(f.events.map((e) => e.name)).toEqual(['delivered', 'read', 'delivered']);
      expect(f.metrics).toEqual(['delivered', 'read', 'ignored:duplicate']);
      expect(f.warnings).toEqual([]);
    });

    it('asks for a retry while the contact is still sending or the message is not recorded yet', async () => {
      // Prepare
      const f = fakeDeps('sending');

      // Act
      const sending = await ingestGatewayEvent(f.deps, instance, receipt('DELIVERY_ACK'));
      const unknown = await ingestGatewayEvent(f.deps, instance, receipt('DELIVERY_ACK', '3EB0NEW'));
      const stale = await ingestGatewayEvent(f.deps, instance, {
        ...receipt('DELIVERY_ACK', '3EB0NEW'),
        date_time: '2026-01-10T11:55:00.000Z',
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
      expect([incoming.reason, deleted.reason]).toEqual(['incoming_message_receipt', 'unknown_status']);
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

  describe('tolerant reader', () => {
    it('applies a receipt whatever the other envelope fields are (null apikey, no sender, extra keys)', async () => {
      // Prepare
      const f = fakeDeps();
      const body = {
        ...receipt('DELIVERY_ACK'),
        apikey: null,
        destination: 42,
        server_url: null,
        date_time: { not: 'a date' },
        isLatest: false,
        progress: 100,
      };

      // Act
      const outcome = await ingestGatewayEvent(f.deps, instance, body);

      // Assess
      expect(outcome.result).toBe('applied');
      expect(f.status()).toBe('delivered');
    });

    it('ignores, warns and counts by reason every webhook it cannot use', async () => {
      // Prepare
      const f = fakeDeps();
      const unusable: Array<[unknown, Parameters<typeof ingestGatewayEvent>[3]]> = [
        [undefined, { bodyProblem: 'MALFORMED_JSON' }],
        [['not', 'an', 'object'], {}],
        [{ event: 'presence.update', data: {} }, {}],
        [{ data: {} }, {}],
        [{ event: 'messages.update', data: null }, {}],
        [{ event: 'messages.update', data: 'READ' }, {}],
        [receipt('DELETED'), {}],
        [receipt('SOMETHING_NEW'), {}],
        [{ ...receipt('READ'), data: { fromMe: true, status: 'READ' } }, {}],
        [{ ...receipt('READ', '3EB0NEVERSENT'), date_time: '2026-01-10T11:55:00.000Z' }, {}],
        [{ event: 'connection.update', data: { state: 'sleeping' } }, {}],
      ];

      // Act
      const outcomes = [];
      for (const [body, context] of unusable)
        outcomes.push(await ingestGatewayEvent(f.deps, instance, body, context));

      // Assess
      expect(outcomes.map((o) => o.result)).toEqual(Array(unusable.length).fill('ignored'));
      const reasons = [
        'unreadable_body',
        'unreadable_body',
        'unknown_event',
        'unknown_event',
        'missing_data',
        'missing_data',
        'unknown_status',
        'unknown_status',
        'missing_data',
        'unknown_message',
        'unknown_connection_state',
      ];
      expect(outcomes.map((o) => o.reason)).toEqual(reasons);
      expect(f.metrics).toEqual(reasons.map((r) => `ignored:${r}`));
      expect(f.warnings.map((w) => w.reason)).toEqual(reasons);
      expect(f.warnings[0]).toMatchObject({
        tenantId: 'acme',
        instanceId: 'inst-1',
        detail: expect.stringContaining('MALFORMED_JSON'),
      });
      expect(f.status()).toBe('sent');
    });

    it('routes an event named only by the by-events path suffix', async () => {
      // Prepare
      const f = fakeDeps();
      const { event: _event, ...body } = receipt('READ');

      // Act
      const outcome = await ingestGatewayEvent(f.deps, instance, body, { pathEvent: 'messages-update' });

      // Assess
      expect(outcome.result).toBe('applied');
      expect(f.status()).toBe('read');
    });

    it('logs an unmatched reply with the phone masked, never whole', async () => {
      // Prepare
      const f = fakeDeps();
      const logged: string[] = [];
      (f.deps.logger as unknown as { debug: (m: string, x: unknown) => void }).debug = (_m, x) =>
        void logged.push(JSON.stringify(x));

      // Act
      const outcome = await ingestGatewayEvent(f.deps, instance, {
        event: 'messages.upsert',
        data: {
          key: { remoteJid: '5511912345678@s.whatsapp.net', fromMe: false, id: '3A0009' },
          message: { conversation: 'oi' },
        },
      });

      // Assess
      expect(outcome.reason).toBe('unmatched_reply');
      expect(logged.join('')).toContain('5678');
      expect(logged.join('')).not.toContain('11912345678');
    });

    it('dates an event by X-Timestamp, else by date_time within a quarter hour (it is local wall-clock time)', () => {
      // Prepare
      const at = (dateTime: unknown, header?: string) => eventInstant(dateTime, header, NOW).toISOString();
      const tenSecondsAgo = new Date(NOW.getTime() - 10_000);
      const wallClock = (offsetHours: number, ageMs = 10_000) =>
        new Date(NOW.getTime() - ageMs + offsetHours * 3_600_000).toISOString();

      // Act
      const results = {
        header: at(wallClock(-3), String(tenSecondsAgo.getTime())),
        utc: at(wallClock(0)),
        saoPaulo: at(wallClock(-3)),
        tokyo: at(wallClock(9)),
        india: at(wallClock(5.5)),
        threeMinutesOldInSaoPaulo: at(wallClock(-3, 180_000)),
        skewedAhead: at(wallClock(0, -5_000)),
        garbage: at('ontem'),
        absent: at(undefined),
        staleHeader: at(undefined, String(NOW.getTime() - 2 * 86_400_000)),
      };

      // Assess
      expect(results).toEqual({
        header: tenSecondsAgo.toISOString(),
        utc: tenSecondsAgo.toISOString(),
        saoPaulo: tenSecondsAgo.toISOString(),
        tokyo: tenSecondsAgo.toISOString(),
        india: tenSecondsAgo.toISOString(),
        threeMinutesOldInSaoPaulo: new Date(NOW.getTime() - 180_000).toISOString(),
        skewedAhead: NOW.toISOString(),
        garbage: NOW.toISOString(),
        absent: NOW.toISOString(),
        staleHeader: NOW.toISOString(),
      });
    });

    it('asks for a retry of an early receipt from a server whose clock is hours behind UTC', async () => {
      // Prepare: Sao Paulo wall-clock time with a Z, 10 s after the event
      const f = fakeDeps();
      const saoPaulo = new Date(NOW.getTime() - 3 * 3_600_000 - 10_000).toISOString();

      // Act
      const outcome = await ingestGatewayEvent(f.deps, instance, {
        ...receipt('DELIVERY_ACK', '3EB0INFLIGHT'),
        date_time: saoPaulo,
      });

      // Assess
      expect(outcome.result).toBe('retry_later');
    });
  });
});
