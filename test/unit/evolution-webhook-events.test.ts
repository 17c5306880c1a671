import { describe, expect, it } from 'vitest';
import {
  type EvolutionWebhookContext,
  eventInstant,
  evolutionWebhookUrl,
  normalizeEventName,
  readEvolutionWebhook,
} from '../../lib/adapters/gateway/evolution-webhook-events.ts';
import type { GatewayEvent } from '../../lib/ports/gateway-events.ts';
import { evolutionFixtureFiles, fillFixture, loadEvolutionFixture } from '../support/evolution-fixtures.ts';

const NOW = new Date('2026-01-10T12:00:00.000Z');
const KEY_ID = '3EB0A1B2C3D4E5F6A7B8C9';
/** The JID Evolution resolved for our send (without the 9th digit) and the contact's own phone JID. */
const REMOTE_JID = '553187654321@s.whatsapp.net';
const PHONE_JID = '5531987654321@s.whatsapp.net';
const PHONE = '+5531987654321';
/** `{{newId}}`: a fresh message id per fixture. */
const NEW_ID = expect.stringMatching(/^3A[0-9A-F]{18}$/);

const read = (body: unknown, context: Partial<EvolutionWebhookContext> = {}) =>
  readEvolutionWebhook(body, { receivedAt: NOW, ...context });
/** The one event a webhook body stands for. */
const readOne = (body: unknown, context: Partial<EvolutionWebhookContext> = {}) =>
  read(body, context).events[0];

const receiptBody = (data: Record<string, unknown>) => ({
  event: 'messages.update',
  data: { keyId: KEY_ID, remoteJid: REMOTE_JID, fromMe: true, ...data },
  date_time: NOW.toISOString(),
});
const upsertBody = (data: Record<string, unknown>, key: Record<string, unknown> = {}) => ({
  event: 'messages.upsert',
  data: {
    key: { remoteJid: PHONE_JID, fromMe: false, id: '3A0001', ...key },
    messageType: 'conversation',
    ...data,
  },
  date_time: NOW.toISOString(),
});

/** What each recorded Evolution webhook (test/fixtures/evolution) reads as. */
const EXPECTED: Record<string, GatewayEvent> = {
  '2.2.3-messages-update-delivery-no-sender.json': {
    kind: 'receipt',
    messageId: KEY_ID,
    status: 'delivered',
    at: NOW,
    error: undefined,
  },
  '2.3.6-connection-update-close-401.json': {
    kind: 'connection',
    state: 'close',
    reportedAs: 'connection.update: close',
  },
  '2.3.6-messages-update-deleted.json': {
    kind: 'ignored',
    reason: 'unknown_status',
    detail: 'unknown status: DELETED',
  },
  '2.3.6-messages-update-incoming.json': {
    kind: 'ignored',
    reason: 'incoming_message_receipt',
    detail: 'receipt of an incoming message',
  },
  '2.3.6-messages-update-read-null-apikey.json': {
    kind: 'receipt',
    messageId: KEY_ID,
    status: 'read',
    at: NOW,
    error: undefined,
  },
  '2.3.6-messages-upsert-from-me.json': {
    kind: 'ignored',
    reason: 'sent_from_linked_phone',
    detail: 'sent by us',
  },
  '2.3.6-messages-upsert-lid-reply.json': {
    kind: 'reply',
    messageId: NEW_ID,
    fromPhone: PHONE,
    sender: PHONE,
    text: 'Já paguei ontem',
    contentType: 'conversation',
    quotedMessageId: undefined,
    at: NOW,
    // WhatsApp's own time of the message, in whole seconds.
    sentAt: NOW,
  },
  '2.3.6-send-message.json': {
    kind: 'ignored',
    reason: 'own_send',
    detail: 'our own send, recorded by the sender',
  },
  '2.3.7-messages-set-extra-keys.json': {
    kind: 'ignored',
    reason: 'unknown_event',
    detail: 'event not used: messages.set',
  },
  '2.4.0-messages-update-delivery-headers.json': {
    kind: 'receipt',
    messageId: KEY_ID,
    status: 'delivered',
    at: NOW,
    error: undefined,
  },
  '2.4.0-messages-update-unknown-message.json': {
    kind: 'receipt',
    messageId: NEW_ID,
    status: 'delivered',
    // X-Timestamp says it was first posted 5 minutes ago (date_time would say 5 too, read in its quarter hour).
    at: new Date(NOW.getTime() - 300_000),
    error: undefined,
  },
  '2.4.0-messages-upsert-sair.json': {
    kind: 'reply',
    messageId: NEW_ID,
    fromPhone: PHONE,
    sender: PHONE,
    text: 'SAIR',
    contentType: 'conversation',
    quotedMessageId: KEY_ID,
    at: NOW,
    // WhatsApp's own time of the message, in whole seconds.
    sentAt: NOW,
  },
};

describe('evolution-webhook-events', () => {
  describe('recorded webhooks (test/fixtures/evolution)', () => {
    it('has an expectation for every fixture', () => {
      expect(Object.keys(EXPECTED).sort()).toEqual(evolutionFixtureFiles());
    });

    it.each(evolutionFixtureFiles())('reads %s', (file) => {
      // Prepare: filled as the e2e test does, headers lower-cased as the HTTP layer gives them
      const fixture = fillFixture(loadEvolutionFixture(file), {
        instance: 'loja',
        keyId: KEY_ID,
        remoteJid: REMOTE_JID,
        phoneJid: PHONE_JID,
        now: NOW,
      });
      const headers = Object.fromEntries(
        Object.entries(fixture.headers).map(([k, v]) => [k.toLowerCase(), v]),
      );

      // Act
      const webhook = read(fixture.body, { pathEvent: fixture.path ?? undefined, headers });

      // Assess
      expect(webhook.events).toEqual([EXPECTED[file]]);
      expect(webhook.label).toEqual({ event: (fixture.body as { event: string }).event, instance: 'loja' });
    });
  });

  describe('receipts', () => {
    it('maps every status Evolution and Baileys send to a domain status, the failure with its error', () => {
      // Prepare
      const statuses = ['SERVER_ACK', 2, '2', 'DELIVERY_ACK', 3, 'READ', 'PLAYED', 4, '5', 'ERROR', 0];

      // Act
      const read = statuses.map((status) => readOne(receiptBody({ status })));

      // Assess
      expect(read.map((e) => (e?.kind === 'receipt' ? e.status : e?.kind))).toEqual([
        'server_ack',
        'server_ack',
        'server_ack',
        'delivered',
        'delivered',
        'read',
        'read',
        'read',
        'read',
        'failed',
        'failed',
      ]);
      expect(read.map((e) => (e?.kind === 'receipt' ? e.error : 'not a receipt'))).toEqual([
        ...Array(9).fill(undefined),
        'WhatsApp informou falha na entrega (ERROR)',
        'WhatsApp informou falha na entrega (ERROR)',
      ]);
    });

    it('ignores statuses still on the way, unknown ones, updates of incoming messages and ids it cannot find', () => {
      // Act
      const reasons = [
        readOne(receiptBody({ status: 'PENDING' })),
        readOne(receiptBody({ status: 1 })),
        readOne(receiptBody({ status: 'DELETED' })),
        readOne(receiptBody({ status: 'SOMETHING_NEW' })),
        readOne(receiptBody({ status: 'constructor' })),
        readOne(receiptBody({ status: { READ: true } })),
        readOne(receiptBody({ status: 'READ', fromMe: false })),
        readOne(receiptBody({ status: 'READ', keyId: undefined })),
        readOne(receiptBody({ status: 'READ', keyId: '' })),
      ].map((e) => (e?.kind === 'ignored' ? e.reason : e?.kind));

      // Assess
      expect(reasons).toEqual([
        'status_not_tracked',
        'status_not_tracked',
        'unknown_status',
        'unknown_status',
        'unknown_status',
        'unknown_status',
        'incoming_message_receipt',
        'missing_data',
        'missing_data',
      ]);
    });

    it('takes the message id from key.id when keyId is absent', () => {
      // Act
      const event = readOne(receiptBody({ status: 'READ', keyId: undefined, key: { id: '3EB0OLD' } }));

      // Assess
      expect(event).toMatchObject({ kind: 'receipt', messageId: '3EB0OLD', status: 'read' });
    });
  });

  describe('replies', () => {
    it('reads the phone from whichever JID is a phone, and keeps the first JID of a sender without one', () => {
      // Act
      const lidFirst = readOne(upsertBody({}, { remoteJid: '123456789012345@lid', remoteJidAlt: PHONE_JID }));
      const senderPn = readOne(upsertBody({}, { remoteJid: '123456789012345@lid', senderPn: PHONE_JID }));
      const device = readOne(upsertBody({}, { remoteJid: '5531987654321:12@s.whatsapp.net' }));
      const lidOnly = readOne(upsertBody({}, { remoteJid: '123456789012345@lid' }));
      const noJid = readOne(upsertBody({}, { remoteJid: undefined }));

      // Assess
      expect([lidFirst, senderPn, device].map((e) => e?.kind === 'reply' && [e.fromPhone, e.sender])).toEqual(
        Array(3).fill([PHONE, PHONE]),
      );
      expect(lidOnly).toMatchObject({ kind: 'reply', fromPhone: undefined, sender: '123456789012345@lid' });
      expect(noJid).toMatchObject({ kind: 'reply', fromPhone: undefined, sender: 'unknown' });
    });

    it("reads when WhatsApp says the debtor sent it, in any spelling of its seconds, never after the webhook's time", () => {
      // Prepare: 12:00:00 less 7 s
      const seconds = NOW.getTime() / 1000 - 7;
      const sevenSecondsBefore = new Date(NOW.getTime() - 7000);
      const spellings = [seconds, String(seconds), { low: seconds, high: 0, unsigned: false }];

      // Act
      const read = spellings.map((messageTimestamp) => readOne(upsertBody({ messageTimestamp })));
      const future = readOne(upsertBody({ messageTimestamp: seconds + 60 }));
      const odd = [undefined, null, 'ontem', seconds * 1000, 12, { low: 1, high: 5 }, 1.5e9 + 0.5].map(
        (messageTimestamp) => readOne(upsertBody({ messageTimestamp })),
      );

      // Assess
      expect(read.map((e) => e?.kind === 'reply' && e.sentAt)).toEqual(Array(3).fill(sevenSecondsBefore));
      expect(future).toMatchObject({ kind: 'reply', sentAt: NOW });
      expect(odd.map((e) => e?.kind === 'reply' && e.sentAt)).toEqual(Array(7).fill(undefined));
    });

    it('reads the text of plain and extended messages, captions and button or list answers', () => {
      // Prepare
      const messages = [
        { conversation: 'oi' },
        { extendedTextMessage: { text: 'link' } },
        { imageMessage: { caption: 'comprovante' } },
        { videoMessage: { caption: 'vídeo' } },
        { buttonsResponseMessage: { selectedDisplayText: 'Já paguei' } },
        { listResponseMessage: { title: 'Segunda via' } },
        { audioMessage: { seconds: 3 } },
      ];

      // Act
      const read = messages.map((message) => readOne(upsertBody({ message, messageType: 'm' })));

      // Assess
      expect(read.map((e) => e?.kind === 'reply' && e.text)).toEqual([
        'oi',
        'link',
        'comprovante',
        'vídeo',
        'Já paguei',
        'Segunda via',
        '',
      ]);
      expect(read.every((e) => e?.kind === 'reply' && e.contentType === 'm')).toBe(true);
    });

    it('finds the quoted message in contextInfo or in the extended text message', () => {
      // Act
      const top = readOne(upsertBody({ contextInfo: { stanzaId: KEY_ID }, message: { conversation: 'x' } }));
      const nested = readOne(
        upsertBody({
          message: { extendedTextMessage: { text: 'x', contextInfo: { stanzaId: '3EB0NESTED' } } },
        }),
      );
      const none = readOne(upsertBody({ contextInfo: null, message: { conversation: 'x' } }));

      // Assess
      expect([top, nested, none].map((e) => e?.kind === 'reply' && e.quotedMessageId)).toEqual([
        KEY_ID,
        '3EB0NESTED',
        undefined,
      ]);
    });

    it('ignores a message without an id, one typed on the linked phone, and groups or broadcasts', () => {
      // Act
      const reasons = [
        readOne(upsertBody({}, { id: undefined })),
        readOne(upsertBody({}, { fromMe: true })),
        readOne(upsertBody({}, { remoteJid: '120363025246125888@g.us', participant: PHONE_JID })),
        readOne(upsertBody({}, { remoteJid: 'status@broadcast' })),
        readOne(upsertBody({}, { remoteJidAlt: '120363025246125888@g.us' })),
      ].map((e) => (e?.kind === 'ignored' ? e.reason : e?.kind));

      // Assess
      expect(reasons).toEqual([
        'missing_data',
        'sent_from_linked_phone',
        'group_or_broadcast',
        'group_or_broadcast',
        'group_or_broadcast',
      ]);
    });
  });

  describe('connection updates', () => {
    it('reads open, connecting, close and refused (as close), and ignores any other state', () => {
      // Act
      const read = ['open', 'connecting', 'close', 'refused', 'sleeping', undefined].map((state) =>
        readOne({ event: 'connection.update', data: { instance: 'loja', state, statusReason: 200 } }),
      );

      // Assess
      expect(read).toEqual([
        { kind: 'connection', state: 'open', reportedAs: 'connection.update: open' },
        { kind: 'connection', state: 'connecting', reportedAs: 'connection.update: connecting' },
        { kind: 'connection', state: 'close', reportedAs: 'connection.update: close' },
        { kind: 'connection', state: 'close', reportedAs: 'connection.update: refused' },
        {
          kind: 'ignored',
          reason: 'unknown_connection_state',
          detail: 'connection state not tracked: sleeping',
        },
        { kind: 'ignored', reason: 'unknown_connection_state', detail: 'connection state not tracked: null' },
      ]);
    });
  });

  describe('tolerant reader', () => {
    it('reads a receipt whatever the other envelope fields are (null apikey, no sender, extra keys)', () => {
      // Prepare
      const body = {
        ...receiptBody({ status: 'DELIVERY_ACK' }),
        apikey: null,
        destination: 42,
        server_url: null,
        date_time: { not: 'a date' },
        isLatest: false,
        progress: 100,
      };

      // Act
      const event = readOne(body);

      // Assess
      expect(event).toEqual({
        kind: 'receipt',
        messageId: KEY_ID,
        status: 'delivered',
        at: NOW,
        error: undefined,
      });
    });

    it('turns every body it cannot use into one ignored event with its reason', () => {
      // Prepare
      const unusable: Array<[unknown, Partial<EvolutionWebhookContext>]> = [
        [undefined, { bodyProblem: 'MALFORMED_JSON' }],
        [['not', 'an', 'object'], {}],
        [null, {}],
        [{ event: 'presence.update', data: {} }, {}],
        [{ data: {} }, {}],
        [{ event: 42, data: {} }, {}],
        [{ event: 'messages.update', data: null }, {}],
        [{ event: 'messages.update', data: 'READ' }, {}],
        [{ event: 'messages.update', data: [{ status: 'READ' }] }, {}],
        [{ event: 'messages.upsert' }, {}],
      ];

      // Act
      const read = unusable.map(([body, context]) =>
        readEvolutionWebhook(body, { receivedAt: NOW, ...context }),
      );

      // Assess
      expect(read.map((w) => w.events.map((e) => (e.kind === 'ignored' ? e.reason : e.kind)))).toEqual([
        ['unreadable_body'],
        ['unreadable_body'],
        ['unreadable_body'],
        ['unknown_event'],
        ['unknown_event'],
        ['unknown_event'],
        ['missing_data'],
        ['missing_data'],
        ['missing_data'],
        ['missing_data'],
      ]);
      expect(read[0]?.events[0]).toMatchObject({ detail: 'body is not JSON (MALFORMED_JSON)' });
      expect(read[0]?.label).toEqual({ event: 'null', instance: 'null' });
    });

    it('routes an event named only by the by-events path suffix, in any spelling', () => {
      // Prepare
      const { event: _event, ...body } = receiptBody({ status: 'READ' });

      // Act
      const bySuffix = readOne(body, { pathEvent: 'messages-update' });
      const upperCase = readOne({ ...body, event: 'MESSAGES_UPDATE' });
      const bodyWins = readOne({ ...body, event: 'send.message' }, { pathEvent: 'messages-update' });

      // Assess
      expect([bySuffix, upperCase].map((e) => e?.kind === 'receipt' && e.status)).toEqual(['read', 'read']);
      expect(bodyWins).toMatchObject({ kind: 'ignored', reason: 'own_send' });
      expect(['messages.update', 'MESSAGES_UPDATE', 'messages-update'].map(normalizeEventName)).toEqual(
        Array(3).fill('messages.update'),
      );
    });

    it('quotes what Evolution sent in labels and details at most 60 characters long', () => {
      // Prepare
      const long = 'x'.repeat(500);

      // Act
      const webhook = read({ event: long, instance: { name: long } });

      // Assess
      expect(webhook.label.event).toBe('x'.repeat(60));
      expect(webhook.label.instance).toHaveLength(60);
      expect(webhook.events[0]).toEqual({
        kind: 'ignored',
        reason: 'unknown_event',
        detail: `event not used: ${'x'.repeat(60)}`,
      });
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

    it('dates a receipt from a server whose clock is hours behind UTC by its age, and by X-Timestamp first', () => {
      // Prepare: Sao Paulo wall-clock time with a Z, 10 s after the event
      const saoPaulo = new Date(NOW.getTime() - 3 * 3_600_000 - 10_000).toISOString();
      const body = { ...receiptBody({ status: 'DELIVERY_ACK' }), date_time: saoPaulo };

      // Act
      const byDateTime = readOne(body);
      const byHeader = readOne(body, { headers: { 'x-timestamp': String(NOW.getTime() - 60_000) } });

      // Assess
      expect(byDateTime).toMatchObject({ at: new Date(NOW.getTime() - 10_000) });
      expect(byHeader).toMatchObject({ at: new Date(NOW.getTime() - 60_000) });
    });
  });

  it('builds the URL Evolution posts an instance’s events to', () => {
    expect(evolutionWebhookUrl('https://api.example.com//', 'acme corp', 'loja/1')).toBe(
      'https://api.example.com/api/v1/billing/webhooks/evolution/acme%20corp/loja%2F1',
    );
  });
});
