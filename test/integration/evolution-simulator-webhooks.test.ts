import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type EvolutionSimulator,
  startEvolutionSimulator,
} from '../../lib/local/evolution-simulator/index.ts';
import { waitFor } from '../support/wait-for.ts';

/** The envelope the simulator posts: a 2.3 server's (apikey null, local wall-clock date_time with a Z). */
describe('evolution simulator webhook envelope', () => {
  let sim: EvolutionSimulator | undefined;
  let receiver: Server | undefined;
  afterEach(async () => {
    await sim?.close();
    await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  });

  /** A webhook receiver that keeps every JSON body it is posted, answering 200. */
  const startReceiver = async (): Promise<{ url: string; bodies: Record<string, unknown>[] }> => {
    const bodies: Record<string, unknown>[] = [];
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, bodies };
  };

  it('posts apikey null and date_time as wall-clock time of the server zone with a Z, by default', async () => {
    // Prepare
    const { url, bodies } = await startReceiver();
    sim = await startEvolutionSimulator({
      instances: [
        { name: 'loja', apiKey: 'instance-token', webhookUrl: url, webhook: { utcOffsetMinutes: -180 } },
      ],
    });

    // Act
    const before = Date.now();
    sim.setState('loja', 'close');
    await waitFor(() => bodies.length >= 1, { what: 'the connection.update webhook' });
    const after = Date.now();

    // Assess
    const [body] = bodies as [Record<string, unknown>];
    expect(body).toMatchObject({
      event: 'connection.update',
      instance: 'loja',
      apikey: null,
      sender: expect.stringMatching(/@s\.whatsapp\.net$/),
      server_url: sim.url,
      data: { instance: 'loja', state: 'close' },
    });
    expect(body.date_time).toMatch(/Z$/);
    const asWritten = Date.parse(String(body.date_time));
    expect(asWritten).toBeGreaterThanOrEqual(before - 3 * 3_600_000);
    expect(asWritten).toBeLessThanOrEqual(after - 3 * 3_600_000);
  });

  it('dates its sends and webhooks by the clock it is given', async () => {
    // Prepare: a clock years ahead (the cost bench fast-forwards the stack's).
    const { url, bodies } = await startReceiver();
    const ahead = Date.parse('2031-03-04T05:06:07.000Z');
    sim = await startEvolutionSimulator({
      now: () => ahead,
      instances: [
        { name: 'loja', apiKey: 'instance-token', webhookUrl: url, webhook: { utcOffsetMinutes: 0 } },
      ],
    });

    // Act
    const response = await fetch(`${sim.url}/message/sendText/loja`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', apikey: 'instance-token' },
      body: JSON.stringify({ number: '5511987654321', text: 'Olá' }),
    });
    await waitFor(() => bodies.some((b) => b.event === 'send.message'), { what: 'the send.message webhook' });

    // Assess
    expect(response.status).toBe(201);
    expect(sim.sent()[0]?.at).toBe('2031-03-04T05:06:07.000Z');
    const echo = bodies.find((b) => b.event === 'send.message');
    expect(echo?.date_time).toBe('2031-03-04T05:06:07.000Z');
  });

  it("answers a send to a number set to answer automatically with that phone's unquoted reply, after its delay, until stopped", async () => {
    // Prepare: receipts off, so the only messages.upsert are replies
    const { url, bodies } = await startReceiver();
    sim = await startEvolutionSimulator({
      instances: [
        {
          name: 'loja',
          apiKey: 'instance-token',
          webhookUrl: url,
          webhook: { serverAckMs: null, deliveryAckMs: null, readMs: null },
        },
      ],
    });
    const send = (number: string) =>
      fetch(`${sim?.url}/message/sendText/loja`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', apikey: 'instance-token' },
        body: JSON.stringify({ number, text: 'Sua fatura venceu' }),
      });
    const replies = () => bodies.filter((b) => b.event === 'messages.upsert');
    // Set with the 9th digit, sent to without it: one phone (DDD 31's JIDs drop it).
    await fetch(`${sim.url}/_sim/auto-replies`, {
      method: 'POST',
      body: JSON.stringify({ number: '5531987654321', text: 'Olá! Já respondemos.', afterMs: 150 }),
    });

    // Act
    const sentAt = Date.now();
    await send('553187654321');
    await send('5531900000000');
    await waitFor(() => replies().length >= 1, { what: 'the automatic reply' });
    const repliedAfter = Date.now() - sentAt;
    sim.setAutoReply('5531987654321', null);
    await send('5531987654321');
    await waitFor(() => bodies.filter((b) => b.event === 'send.message').length >= 3, {
      what: 'the third send.message',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Assess
    expect(repliedAfter).toBeGreaterThanOrEqual(140);
    expect(replies()).toHaveLength(1);
    const data = replies()[0]?.data as Record<string, unknown>;
    expect(data).toMatchObject({
      key: { fromMe: false, remoteJid: '553187654321@s.whatsapp.net' },
      message: { conversation: 'Olá! Já respondemos.' },
    });
    expect(data.contextInfo).toBeUndefined();
    expect(Math.abs((data.messageTimestamp as number) * 1000 - sentAt)).toBeLessThan(2000);
  });

  it('posts the instance token as apikey when the server exposes it', async () => {
    // Prepare
    const { url, bodies } = await startReceiver();
    sim = await startEvolutionSimulator({
      instances: [
        { name: 'loja', apiKey: 'instance-token', webhookUrl: url, webhook: { exposeApiKey: true } },
      ],
    });

    // Act
    sim.setState('loja', 'close');
    await waitFor(() => bodies.length >= 1, { what: 'the connection.update webhook' });

    // Assess
    expect(bodies[0]?.apikey).toBe('instance-token');
  });
});
