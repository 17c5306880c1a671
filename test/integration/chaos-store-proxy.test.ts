import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StoreProxy, startStoreProxy } from '../../scripts/chaos/store-proxy.ts';

/**
 * The proxy chaos puts between the stack and its DynamoDB, in front of a real HTTP server that
 * counts the requests it took (a write taking effect) and answers each with that count.
 */
let store: Server;
let took = 0;
let proxy: StoreProxy;

beforeAll(async () => {
  store = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      took += 1;
      res.end(String(took));
    });
  });
  await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
  proxy = await startStoreProxy({ host: '127.0.0.1', port: (store.address() as AddressInfo).port });
});

afterEach(async () => {
  proxy.release();
  if (!(await reachable())) await proxy.restore();
});

afterAll(async () => {
  await proxy.close();
  await new Promise<void>((resolve) => store.close(() => resolve()));
});

/**
 * A POST through the proxy, on a fresh connection or on `agent`'s kept-alive ones (as the SDK
 * does); rejects when it times out or cannot connect.
 */
const post = (
  timeoutMs = 2_000,
  via: { url: string } = proxy,
  agent: Agent | false = false,
): Promise<string> =>
  new Promise((resolve, reject) => {
    const req = request(`${via.url}/`, { method: 'POST', agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end('{"put":1}');
  });

const reachable = () =>
  post().then(
    () => true,
    () => false,
  );

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
};

describe('the chaos store proxy', () => {
  it('passes requests and their answers through', async () => {
    const before = took;

    const answer = await post();

    expect(Number(answer)).toBe(before + 1);
  });

  it('held, lets a request take effect and keeps its answer until released', async () => {
    // Prepare
    const before = took;
    proxy.hold();

    // Act
    let answered = false;
    const pending = post(10_000).then((answer) => {
      answered = true;
      return answer;
    });
    const tookEffect = await until(() => took === before + 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answeredWhileHeld = answered;
    proxy.release();

    // Assess
    expect({ tookEffect, answeredWhileHeld, answer: await pending }).toEqual({
      tookEffect: true,
      answeredWhileHeld: false,
      answer: String(before + 1),
    });
  });

  it('held, times a request out after it took effect, and answers the next once released', async () => {
    // Prepare
    const before = took;
    proxy.hold();

    // Act
    const outcome = await post(300).then(
      (answer) => `answered ${answer}`,
      (error: Error) => error.message,
    );
    const tookWhileHeld = took - before;
    proxy.release();
    const next = await post();

    // Assess
    expect({ outcome, tookWhileHeld, next }).toEqual({
      outcome: 'timed out',
      tookWhileHeld: 1,
      next: String(before + 2),
    });
  });

  it('held past the store closing its idle connections, drops the clients that gave up and can still close', async () => {
    // Prepare: the store closes a kept-alive connection 100 ms after its answer (Node's default is
    // 5 s), and the client keeps its connections alive, as the SDK does
    const keepAliveTimeout = store.keepAliveTimeout;
    store.keepAliveTimeout = 100;
    const agent = new Agent({ keepAlive: true });
    const own = await startStoreProxy({ host: '127.0.0.1', port: (store.address() as AddressInfo).port });
    const viaOwn = (timeoutMs: number) => post(timeoutMs, own, agent);
    await viaOwn(2_000);
    own.hold();

    // Act: the client gives up after the store closed the connection under the held answer
    const outcome = await viaOwn(500).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    own.release();
    const closed = await Promise.race([
      own.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still open'), 5_000)),
    ]);
    agent.destroy();
    store.keepAliveTimeout = keepAliveTimeout;

    // Assess
    expect({ outcome, closed }).toEqual({ outcome: 'timed out', closed: 'closed' });
  });

  it('cut, refuses connections without reaching the store, and passes them again once restored', async () => {
    // Prepare
    const before = took;
    await proxy.cut();

    // Act
    const whileCut = await post().then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );
    await proxy.restore();
    const after = await post();

    // Assess
    expect({ whileCut, tookWhileCut: took - before - 1, after }).toEqual({
      whileCut: 'ECONNREFUSED',
      tookWhileCut: 0,
      after: String(before + 1),
    });
  });

  it('throttled, answers the requests it picks as DynamoDB throttles them, without reaching the store', async () => {
    // Prepare: kept-alive connections, as the SDK uses them
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = took;
    const send = (body: string) =>
      new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
        const req = request(`${proxy.url}/`, { method: 'POST', agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });

    // Act
    proxy.throttle((request) => request.includes('"sk":"COUNTERS"'));
    const throttled = await send('{"sk":"COUNTERS"}');
    const other = await send('{"sk":"CONTACT#0001"}');
    const again = await send('{"sk":"COUNTERS"}');
    proxy.unthrottle();
    const after = await send('{"sk":"COUNTERS"}');
    agent.destroy();

    // Assess: the two throttled never reached the store; the same connection went on serving
    expect(throttled.status).toBe(400);
    expect(JSON.parse(throttled.body).__type).toBe(
      'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    );
    expect([other, again.status, after]).toEqual([
      { status: 200, body: String(before + 1) },
      400,
      { status: 200, body: String(before + 2) },
    ]);
  });
});
