import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEvolutionGateway } from '../../lib/adapters/gateway/evolution-gateway.ts';
import {
  type EvolutionSimulator,
  type SimFailureKind,
  startEvolutionSimulator,
} from '../../lib/local/evolution-simulator/index.ts';
import type { GatewayTarget, SendOutcome } from '../../lib/ports/whatsapp-gateway.ts';

describe('evolutionGateway against the simulator', () => {
  let sim: EvolutionSimulator;
  let target: GatewayTarget;
  const gateway = createEvolutionGateway({ timeoutMs: 2000 });

  beforeAll(async () => {
    sim = await startEvolutionSimulator();
    target = { baseUrl: sim.url, instanceName: 'demo', apiKey: sim.apiKey };
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => {
    sim.reset();
  });

  it('returns sent with a fresh 3EB0 id each time and logs both sends', async () => {
    // Act
    const first = await gateway.sendText(target, '5511987654321', 'Olá, Maria');
    const second = await gateway.sendText(target, '5511987654321', 'Olá, Maria');

    // Assess
    expect(first).toMatchObject({ kind: 'sent', remoteJid: '5511987654321@s.whatsapp.net' });
    expect(second.kind).toBe('sent');
    const ids = [first, second].map((o) => (o.kind === 'sent' ? o.messageId : ''));
    for (const id of ids) expect(id).toMatch(/^3EB0[0-9A-F]{16,20}$/);
    expect(ids[0]).not.toBe(ids[1]);
    expect(sim.sent().map((m) => m.id)).toEqual(ids);
    expect(sim.sent()[0]).toMatchObject({ instance: 'demo', number: '5511987654321', text: 'Olá, Maria' });
  });

  it('returns the remoteJid without the 9th digit for DDD 31+ and a next digit of 7+', async () => {
    // Act
    const outcome = await gateway.sendText(target, '5531987654321', 'Olá');

    // Assess
    expect(outcome).toMatchObject({ kind: 'sent', remoteJid: '553187654321@s.whatsapp.net' });
  });

  it('keeps the 9th digit for Sao Paulo numbers', async () => {
    // Act
    const outcome = await gateway.sendText(target, '5511987654321', 'Olá');

    // Assess
    expect(outcome).toMatchObject({ kind: 'sent', remoteJid: '5511987654321@s.whatsapp.net' });
  });

  it('sends through the typing delay when the timeout covers it', async () => {
    // Prepare
    const delayed = createEvolutionGateway({ delayMs: 50, timeoutMs: 5100 });

    // Act
    const outcome = await delayed.sendText(target, '5511987654321', 'Olá');

    // Assess
    expect(outcome.kind).toBe('sent');
  });

  it('answers instance not found for an unknown instance even with a wrong key (404 before 401)', async () => {
    // Prepare
    const wrong = { ...target, instanceName: 'ghost', apiKey: 'wrong-key' };
    const raw = await fetch(`${sim.url}/message/sendText/ghost`, {
      method: 'POST',
      headers: { apikey: 'wrong-key', 'content-type': 'application/json' },
      body: JSON.stringify({ number: '5511987654321', text: 'Olá' }),
    });
    await raw.body?.cancel();

    // Act
    const outcome = await gateway.sendText(wrong, '5511987654321', 'Olá');

    // Assess
    expect(raw.status).toBe(404);
    expect(outcome).toEqual({ kind: 'transient', reason: 'instance not found', rateLimited: false });
    expect(sim.sent()).toEqual([]);
  });

  it('answers transient unauthorized for a wrong key on a known instance', async () => {
    // Act
    const outcome = await gateway.sendText({ ...target, apiKey: 'wrong-key' }, '5511987654321', 'Olá');

    // Assess
    expect(outcome).toEqual({ kind: 'transient', reason: 'unauthorized', rateLimited: false });
    expect(sim.sent()).toEqual([]);
  });

  it('answers permanent not on WhatsApp for a number marked unknown', async () => {
    // Prepare
    sim.markNotOnWhatsApp(['5511912345678']);

    // Act
    const outcome = await gateway.sendText(target, '5511912345678', 'Olá');

    // Assess
    expect(outcome).toEqual({ kind: 'permanent', reason: 'not on WhatsApp' });
    expect(sim.sent()).toEqual([]);
  });

  it('answers permanent for blank text', async () => {
    // Act
    const outcome = await gateway.sendText(target, '5511987654321', '   ');

    // Assess
    expect(outcome).toEqual({ kind: 'permanent', reason: 'rejected: Text is required' });
  });

  it('answers transient connection closed while the instance is closed', async () => {
    // Prepare
    sim.setState('demo', 'close');

    // Act
    const outcome = await gateway.sendText(target, '5511987654321', 'Olá');

    // Assess
    expect(outcome).toEqual({ kind: 'transient', reason: 'connection closed', rateLimited: false });
    expect(sim.sent()).toEqual([]);
  });

  const injected: Array<[SimFailureKind, SendOutcome]> = [
    [
      'http500',
      { kind: 'transient', reason: 'gateway error 500: Internal Server Error', rateLimited: false },
    ],
    ['connection_closed', { kind: 'transient', reason: 'connection closed', rateLimited: false }],
    ['rate_overlimit', { kind: 'transient', reason: 'rate-overlimit', rateLimited: true }],
    ['not_on_whatsapp', { kind: 'permanent', reason: 'not on WhatsApp' }],
    ['reset', { kind: 'unknown', reason: 'connection lost (UND_ERR_SOCKET)' }],
  ];

  it.each(injected)('classifies an injected %s failure and sends nothing', async (kind, expected) => {
    // Prepare
    sim.injectFailures({ instance: 'demo', kind });

    // Act
    const failed = await gateway.sendText(target, '5511987654321', 'Olá');
    const next = await gateway.sendText(target, '5511987654321', 'Olá de novo');

    // Assess
    expect(failed).toEqual(expected);
    expect(next.kind).toBe('sent');
    expect(sim.sent().map((m) => m.text)).toEqual(['Olá de novo']);
  });

  it('returns unknown on a timeout while the simulator log shows the message went out', async () => {
    // Prepare
    const impatient = createEvolutionGateway({ timeoutMs: 300 });
    sim.injectFailures({ kind: 'timeout' });

    // Act
    const outcome = await impatient.sendText(target, '5511987654321', 'Olá');

    // Assess
    expect(outcome).toEqual({ kind: 'unknown', reason: 'timeout' });
    expect(sim.sent()).toHaveLength(1);
    expect(sim.sent()[0]).toMatchObject({ number: '5511987654321', text: 'Olá' });
  });

  const proxied: Array<[SimFailureKind, SendOutcome]> = [
    ['proxy_502', { kind: 'unknown', reason: 'proxy error 502' }],
    ['proxy_504', { kind: 'unknown', reason: 'proxy error 504' }],
    ['proxy_html', { kind: 'unknown', reason: "gateway error 500 without Evolution's envelope" }],
  ];

  it.each(proxied)('returns unknown on an injected %s while the message went out', async (kind, expected) => {
    // Prepare
    sim.injectFailures({ instance: 'demo', kind });

    // Act
    const outcome = await gateway.sendText(target, '5511987654321', 'Olá');

    // Assess
    expect(outcome).toEqual(expected);
    expect(sim.sent().map((m) => m.text)).toEqual(['Olá']);
  });

  it('tells when each request left, before the gateway answers, once per request', async () => {
    // Prepare: the gateway takes 300 ms to answer
    sim.setLatency(300);
    const calledAt = performance.now();
    const left: number[] = [];
    const tell = () => left.push(performance.now());

    // Act: two at once to the same instance, then one more
    const answers = await Promise.all([
      gateway.sendText(target, '5511987654321', 'Olá', tell),
      gateway.sendText(target, '5511987654322', 'Olá', tell),
    ]);
    const answeredAt = performance.now();
    await gateway.sendText(target, '5511987654323', 'Olá', tell);

    // Assess: both left long before their answers came back, and the third was told too
    expect(answers.map((a) => a.kind)).toEqual(['sent', 'sent']);
    expect(left).toHaveLength(3);
    for (const at of left.slice(0, 2)) {
      expect(at).toBeGreaterThanOrEqual(calledAt);
      expect(answeredAt - at).toBeGreaterThan(250);
    }
  });

  it('never tells of a request that could not leave', async () => {
    // Prepare
    const gone = await startEvolutionSimulator();
    await gone.close();
    let told = 0;

    // Act
    const refused = await gateway.sendText({ ...target, baseUrl: gone.url }, '5511987654321', 'Olá', () => {
      told += 1;
    });
    const malformed = await gateway.sendText(
      { ...target, baseUrl: 'not a url' },
      '5511987654321',
      'Olá',
      () => {
        told += 1;
      },
    );

    // Assess
    expect(refused.kind).toBe('transient');
    expect(malformed).toMatchObject({ kind: 'transient', reason: 'gateway unreachable (ERR_INVALID_URL)' });
    expect(told).toBe(0);
  });

  it('returns transient when nothing listens on the port', async () => {
    // Prepare
    const gone = await startEvolutionSimulator();
    await gone.close();

    // Act
    const outcome = await gateway.sendText({ ...target, baseUrl: gone.url }, '5511987654321', 'Olá');

    // Assess
    expect(outcome).toEqual({
      kind: 'transient',
      reason: 'gateway unreachable (ECONNREFUSED)',
      rateLimited: false,
    });
  });

  it('reads the connection state: open, connecting, close', async () => {
    // Act
    const open = await gateway.connectionState(target);
    sim.setState('demo', 'connecting');
    const connecting = await gateway.connectionState(target);
    sim.setState('demo', 'close');
    const closed = await gateway.connectionState(target);

    // Assess
    expect([open, connecting, closed]).toEqual(['open', 'connecting', 'close']);
  });

  it('reads unknown for an unknown instance, a wrong key or a closed port', async () => {
    // Prepare
    const gone = await startEvolutionSimulator();
    await gone.close();

    // Act
    const states = await Promise.all([
      gateway.connectionState({ ...target, instanceName: 'ghost' }),
      gateway.connectionState({ ...target, apiKey: 'wrong-key' }),
      gateway.connectionState({ ...target, baseUrl: gone.url }),
    ]);

    // Assess
    expect(states).toEqual(['unknown', 'unknown', 'unknown']);
  });

  it('accepts an instance token instead of the global key', async () => {
    // Prepare
    sim.upsertInstance('loja', { apiKey: 'loja-token' });

    // Act
    const outcome = await gateway.sendText(
      { baseUrl: sim.url, instanceName: 'loja', apiKey: 'loja-token' },
      '5511987654321',
      'Olá',
    );

    // Assess
    expect(outcome.kind).toBe('sent');
    expect(sim.sent()[0]?.instance).toBe('loja');
  });
});
