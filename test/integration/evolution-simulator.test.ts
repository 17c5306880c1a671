import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  brazilianJidUser,
  type EvolutionSimulator,
  type SimSentMessage,
  startEvolutionSimulator,
} from '../../lib/local/evolution-simulator/index.ts';

const KEY = 'test-global-key';

describe('evolutionSimulator', () => {
  let sim: EvolutionSimulator;
  const accepted: SimSentMessage[] = [];

  beforeAll(async () => {
    sim = await startEvolutionSimulator({ apiKey: KEY, onAccepted: (m) => accepted.push(m) });
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => {
    sim.reset();
    accepted.length = 0;
  });

  const call = async (
    method: string,
    path: string,
    options: { body?: unknown; rawBody?: string; apikey?: string } = {},
  ): Promise<{ status: number; body: unknown; text: string }> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.apikey !== undefined) headers.apikey = options.apikey;
    const payload =
      options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await response.text();
    return { status: response.status, text, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };

  const sendText = (body: unknown, instance = 'demo', apikey = KEY) =>
    call('POST', `/message/sendText/${instance}`, { body, apikey });

  describe('guards', () => {
    it('answers 404 for an unknown instance before checking the key', async () => {
      // Act
      const noKey = await call('POST', '/message/sendText/ghost', {
        body: { number: '5511987654321', text: 'a' },
      });
      const goodKey = await sendText({ number: '5511987654321', text: 'a' }, 'ghost');

      // Assess
      const expected =
        '{"status":404,"error":"Not Found","response":{"message":["The \\"ghost\\" instance does not exist"]}}';
      expect(noKey.status).toBe(404);
      expect(noKey.text).toBe(expected);
      expect(goodKey.text).toBe(expected);
    });

    it('answers 401 with a plain Unauthorized message for a missing or wrong key', async () => {
      // Act
      const missing = await call('GET', '/instance/connectionState/demo');
      const wrong = await call('GET', '/instance/connectionState/demo', { apikey: 'nope' });

      // Assess
      const expected = '{"status":401,"error":"Unauthorized","response":{"message":"Unauthorized"}}';
      expect([missing.status, wrong.status]).toEqual([401, 401]);
      expect(missing.text).toBe(expected);
      expect(wrong.text).toBe(expected);
    });

    it('answers 404 for a route it does not know', async () => {
      // Act
      const answer = await call('GET', '/message/sendText/demo', { apikey: KEY });

      // Assess
      expect(answer.status).toBe(404);
    });
  });

  describe('sendText', () => {
    it('answers 201 with the contract body and logs the send', async () => {
      // Act
      const answer = await sendText({ number: '5511987654321', text: 'Olá, Maria', linkPreview: false });

      // Assess
      expect(answer.status).toBe(201);
      const body = answer.body as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(
        [
          'instanceId',
          'key',
          'message',
          'messageTimestamp',
          'messageType',
          'pushName',
          'source',
          'status',
        ].sort(),
      );
      expect(body).toMatchObject({
        key: { remoteJid: '5511987654321@s.whatsapp.net', fromMe: true },
        status: 'PENDING',
        message: { conversation: 'Olá, Maria' },
        messageType: 'conversation',
      });
      const key = body.key as { id: string };
      expect(key.id).toMatch(/^3EB0[0-9A-F]{16,20}$/);
      expect(Number.isInteger(body.messageTimestamp)).toBe(true);
      expect(Math.abs((body.messageTimestamp as number) - Date.now() / 1000)).toBeLessThan(60);
      expect(sim.sent()).toEqual([
        expect.objectContaining({
          instance: 'demo',
          number: '5511987654321',
          text: 'Olá, Maria',
          id: key.id,
        }),
      ]);
      expect(accepted.map((m) => m.id)).toEqual([key.id]);
    });

    it('drops the 9th digit in the remoteJid for DDD 31+ when the next digit is 7+', async () => {
      // Act
      const answer = await sendText({ number: '5531987654321', text: 'Olá' });

      // Assess
      expect((answer.body as { key: { remoteJid: string } }).key.remoteJid).toBe(
        '553187654321@s.whatsapp.net',
      );
    });

    it.each([
      ['5511987654321', '5511987654321'],
      ['5531987654321', '553187654321'],
      ['5531961234567', '5531961234567'],
      ['5521987654321', '5521987654321'],
      ['5591999998888', '559199998888'],
      ['14155550123', '14155550123'],
    ])('maps %s to the JID user %s', (number, user) => {
      // Act + Assess
      expect(brazilianJidUser(number)).toBe(user);
    });

    it.each([
      [{ text: 'Olá' }, [['instance requires property "number"']]],
      [{ number: 5511987654321, text: 'Olá' }, [['Invalid format']]],
      [{ number: '+55 11 98765-4321', text: 'Olá' }, [['Invalid format']]],
      [{ number: '5511987654321' }, [['instance requires property "text"']]],
      [{ number: '5511987654321', textMessage: { text: 'Olá' } }, [['instance requires property "text"']]],
      [{ number: '5511987654321', text: 'Olá', delay: 'soon' }, [['Enter a value in milliseconds']]],
      [{ number: '5511987654321', text: '  ' }, ['Text is required']],
    ])('answers 400 for the body %j', async (body, message) => {
      // Act
      const answer = await sendText(body);

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ status: 400, error: 'Bad Request', response: { message } });
      expect(sim.sent()).toEqual([]);
    });

    it('answers 400 with exists false for a number not on WhatsApp, in either 9th-digit spelling', async () => {
      // Prepare
      sim.markNotOnWhatsApp(['553187654321']);

      // Act
      const answer = await sendText({ number: '5531987654321', text: 'Olá' });

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        status: 400,
        error: 'Bad Request',
        response: {
          message: [{ jid: '553187654321@s.whatsapp.net', exists: false, number: '5531987654321' }],
        },
      });
    });

    it('answers 500 Connection Closed while the instance is not open', async () => {
      // Prepare
      sim.setState('demo', 'connecting');

      // Act
      const answer = await sendText({ number: '5511987654321', text: 'Olá' });

      // Assess
      expect(answer.status).toBe(500);
      expect(answer.text).toBe(
        '{"status":500,"error":"Internal Server Error","response":{"message":"Connection Closed"}}',
      );
    });

    it('holds the call for the requested delay before answering', async () => {
      // Prepare
      const started = performance.now();

      // Act
      const answer = await sendText({ number: '5511987654321', text: 'Olá', delay: 150 });

      // Assess
      expect(answer.status).toBe(201);
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    });
  });

  describe('connectionState and whatsappNumbers', () => {
    it('answers the instance state', async () => {
      // Prepare
      sim.setState('demo', 'close');

      // Act
      const answer = await call('GET', '/instance/connectionState/demo', { apikey: KEY });

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.text).toBe('{"instance":{"instanceName":"demo","state":"close"}}');
    });

    it('answers exists per number', async () => {
      // Prepare
      sim.markNotOnWhatsApp(['5511912345678']);

      // Act
      const answer = await call('POST', '/chat/whatsappNumbers/demo', {
        apikey: KEY,
        body: { numbers: ['5511912345678', '5531987654321'] },
      });

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual([
        { exists: false, jid: '5511912345678@s.whatsapp.net', number: '5511912345678' },
        { exists: true, jid: '553187654321@s.whatsapp.net', number: '5531987654321' },
      ]);
    });

    it('answers its validation errors without the response wrapper', async () => {
      // Act
      const answer = await call('POST', '/chat/whatsappNumbers/demo', { apikey: KEY, body: {} });

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        status: 400,
        error: 'Bad Request',
        message: [['instance requires property "numbers"']],
      });
    });
  });

  describe('control API', () => {
    it('creates an instance that then answers, and changes its state', async () => {
      // Act
      const created = await call('POST', '/_sim/instances/loja', { body: { state: 'connecting' } });
      const before = await call('GET', '/instance/connectionState/loja', { apikey: KEY });
      const changed = await call('POST', '/_sim/instances/loja/state', { body: { state: 'open' } });
      const after = await call('GET', '/instance/connectionState/loja', { apikey: KEY });

      // Assess
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({ name: 'loja', state: 'connecting' });
      expect(before.body).toEqual({ instance: { instanceName: 'loja', state: 'connecting' } });
      expect(changed.status).toBe(200);
      expect(after.body).toEqual({ instance: { instanceName: 'loja', state: 'open' } });
    });

    it('rejects a bad state and an unknown instance', async () => {
      // Act
      const badState = await call('POST', '/_sim/instances/demo/state', { body: { state: 'asleep' } });
      const unknown = await call('POST', '/_sim/instances/ghost/state', { body: { state: 'open' } });

      // Assess
      expect(badState.status).toBe(400);
      expect(unknown.status).toBe(404);
    });

    it('queues failures for the next sends of an instance, then sends normally', async () => {
      // Prepare
      const queued = await call('POST', '/_sim/failures', {
        body: { instance: 'demo', kind: 'rate_overlimit', count: 2 },
      });

      // Act
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await sendText({ number: '5511987654321', text: `m${i}` }));

      // Assess
      expect(queued.status).toBe(200);
      expect(answers.map((a) => a.status)).toEqual([400, 400, 201]);
      expect(answers[0]?.body).toEqual({
        status: 400,
        error: 'Bad Request',
        response: { message: ['Error: rate-overlimit'] },
      });
      expect(sim.sent().map((m) => m.text)).toEqual(['m2']);
    });

    it('applies a global failure to whichever instance sends next', async () => {
      // Prepare
      sim.upsertInstance('loja');
      await call('POST', '/_sim/failures', { body: { kind: 'connection_closed' } });

      // Act
      const first = await sendText({ number: '5511987654321', text: 'a' }, 'loja');
      const second = await sendText({ number: '5511987654321', text: 'b' }, 'demo');

      // Assess
      expect(first.status).toBe(500);
      expect(second.status).toBe(201);
    });

    it('rejects an unknown failure kind', async () => {
      // Act
      const answer = await call('POST', '/_sim/failures', { body: { kind: 'meteor' } });

      // Assess
      expect(answer.status).toBe(400);
    });

    it('destroys the socket on a scripted reset and logs nothing', async () => {
      // Prepare
      sim.injectFailures({ kind: 'reset' });

      // Act
      const attempt = sendText({ number: '5511987654321', text: 'Olá' });

      // Assess
      await expect(attempt).rejects.toThrow('fetch failed');
      expect(sim.sent()).toEqual([]);
    });

    it('logs a scripted timeout as sent and never answers', async () => {
      // Prepare
      sim.injectFailures({ kind: 'timeout' });

      // Act
      const attempt = fetch(`${sim.url}/message/sendText/demo`, {
        method: 'POST',
        headers: { apikey: KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ number: '5511987654321', text: 'Olá' }),
        signal: AbortSignal.timeout(200),
      });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(sim.sent()).toHaveLength(1);
    });

    it('marks numbers not on WhatsApp over HTTP', async () => {
      // Prepare
      await call('POST', '/_sim/not-on-whatsapp', { body: { numbers: ['5511912345678'] } });

      // Act
      const answer = await sendText({ number: '5511912345678', text: 'Olá' });

      // Assess
      expect(answer.status).toBe(400);
      expect((answer.body as { response: { message: unknown } }).response.message).toEqual([
        { jid: '5511912345678@s.whatsapp.net', exists: false, number: '5511912345678' },
      ]);
    });

    it('delays answers by the configured latency', async () => {
      // Prepare
      await call('POST', '/_sim/latency', { body: { ms: 120, instance: 'demo' } });
      const started = performance.now();

      // Act
      const answer = await call('GET', '/instance/connectionState/demo', { apikey: KEY });

      // Assess
      expect(answer.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    });

    it('lists and clears the sent log', async () => {
      // Prepare
      await sendText({ number: '5511987654321', text: 'um' });
      await sendText({ number: '5531987654321', text: 'dois' });

      // Act
      const listed = await call('GET', '/_sim/sent');
      const cleared = await call('DELETE', '/_sim/sent');
      const after = await call('GET', '/_sim/sent');

      // Assess
      expect(listed.body).toEqual([
        expect.objectContaining({ instance: 'demo', number: '5511987654321', text: 'um' }),
        expect.objectContaining({
          number: '5531987654321',
          text: 'dois',
          remoteJid: '553187654321@s.whatsapp.net',
        }),
      ]);
      const first = (listed.body as SimSentMessage[])[0] as SimSentMessage;
      expect(first.id).toMatch(/^3EB0/);
      expect(Number.isNaN(Date.parse(first.at))).toBe(false);
      expect(cleared.status).toBe(204);
      expect(after.body).toEqual([]);
    });

    it('resets instances, failures, latency, unknown numbers and the log', async () => {
      // Prepare
      sim.upsertInstance('loja');
      sim.setState('demo', 'close');
      sim.injectFailures({ kind: 'http500', count: 3 });
      sim.markNotOnWhatsApp(['5511987654321']);
      await sendText({ number: '5511900000000', text: 'x' }, 'loja');
      sim.setLatency(5000);

      // Act
      const answer = await call('POST', '/_sim/reset');
      const started = performance.now();
      const afterSend = await sendText({ number: '5511987654321', text: 'Olá' });
      const elapsed = performance.now() - started;

      // Assess
      expect(answer.status).toBe(204);
      expect(sim.instances().map((i) => [i.name, i.state])).toEqual([['demo', 'open']]);
      expect(afterSend.status).toBe(201);
      expect(elapsed).toBeLessThan(2000);
      expect(sim.sent()).toHaveLength(1);
    });

    it('keeps a webhook URL on an instance for the webhook emitter', async () => {
      // Act
      await call('POST', '/_sim/instances/demo', { body: { webhookUrl: 'http://127.0.0.1:9/hooks' } });
      const listed = await call('GET', '/_sim/instances');

      // Assess
      expect(listed.body).toEqual([
        expect.objectContaining({ name: 'demo', webhookUrl: 'http://127.0.0.1:9/hooks' }),
      ]);
    });
  });
});
