import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the chaos run's DynamoDB: the stack reaches its store only through it, so
 * the run can give the stack the two faults a real DynamoDB has.
 *
 * - `cut()`: an outage. The port refuses connections and every open one is dropped mid-request;
 *   `restore()` listens on the same port again.
 * - `hold()`: a store that takes requests and does not answer. Every request still reaches the
 *   store and takes effect, but its answer is held back: the stack's request times out (5 s) and
 *   the SDK retries a write that has already happened, or, for a hold shorter than the timeout,
 *   the answer comes late. `release()` lets the held answers through to the connections the stack
 *   has not given up on; one it closed meanwhile never hears of its request.
 *
 * - `throttle(matches)`: a hot item. Each request `matches` picks (its HTTP text, headers and body)
 *   is answered as DynamoDB answers a write over a partition's throughput,
 *   `400 ProvisionedThroughputExceededException`, without reaching the store; the SDK retries it with
 *   backoff and, past its attempts, the caller sees the error. `unthrottle()` lets them through.
 *
 * The data behind the proxy is untouched either way.
 */
export interface StoreProxy {
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  hold(): void;
  release(): void;
  throttle(matches: (request: string) => boolean): void;
  unthrottle(): void;
  close(): Promise<void>;
}

/** DynamoDB's answer to a write over a partition's throughput (the SDK retries it). */
const THROTTLED_BODY = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message:
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
});
const THROTTLED_ANSWER = Buffer.from(
  'HTTP/1.1 400 Bad Request\r\n' +
    'Content-Type: application/x-amz-json-1.0\r\n' +
    `Content-Length: ${Buffer.byteLength(THROTTLED_BODY)}\r\n` +
    'x-amzn-RequestId: CHAOSTHROTTLED\r\n' +
    '\r\n' +
    THROTTLED_BODY,
);

/**
 * The first whole HTTP request in `buffer` (the SDK sends DynamoDB requests with a Content-Length,
 * one at a time on a connection) and how many bytes it takes; undefined while it is incomplete.
 */
const firstRequest = (buffer: Buffer): { text: string; length: number } | undefined => {
  const headersEnd = buffer.indexOf('\r\n\r\n');
  if (headersEnd < 0) return undefined;
  const headers = buffer.subarray(0, headersEnd).toString('latin1');
  const contentLength = /\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1];
  const length = headersEnd + 4 + Number(contentLength ?? 0);
  if (buffer.length < length) return undefined;
  return { text: buffer.subarray(0, length).toString('utf8'), length };
};

interface Connection {
  client: Socket;
  upstream: Socket;
  /** What the client sent that is not a whole request yet (only while throttling). */
  pendingRequest: Buffer;
  /** Answers the store gave while held, in order, for this connection's client. */
  heldAnswers: Buffer[];
  /** The store closed the connection after answers still held: the client is closed once they are out. */
  upstreamClosed: boolean;
}

export const startStoreProxy = async (target: { host: string; port: number }): Promise<StoreProxy> => {
  const open = new Set<Connection>();
  let holding = false;
  let throttled: ((request: string) => boolean) | undefined;
  const drop = (connection: Connection) => {
    open.delete(connection);
    connection.heldAnswers = [];
    connection.client.destroy();
    connection.upstream.destroy();
  };
  const letThrough = (connection: Connection) => {
    for (const answer of connection.heldAnswers) connection.client.write(answer);
    connection.heldAnswers = [];
    if (connection.upstreamClosed) {
      open.delete(connection);
      // The answers out, the connection is over (the store closed its side long ago).
      connection.client.end(() => connection.client.destroy());
    }
  };
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const connection: Connection = {
      client,
      upstream,
      pendingRequest: Buffer.alloc(0),
      heldAnswers: [],
      upstreamClosed: false,
    };
    open.add(connection);
    client.on('error', () => drop(connection));
    client.on('close', () => drop(connection));
    upstream.on('error', () => drop(connection));
    upstream.on('close', () => {
      if (connection.heldAnswers.length === 0) return drop(connection);
      // The store closes an idle connection after a few seconds (its keep-alive timeout) while its
      // answers are still held. The client stays, reading (the pipe to the store is gone) so that
      // its own end is seen: a client that gave up is dropped with its answers.
      connection.upstreamClosed = true;
      client.resume();
    });
    client.on('data', (chunk: Buffer) => {
      if (!throttled && connection.pendingRequest.length === 0) {
        upstream.write(chunk);
        return;
      }
      // Whole requests only: each goes on to the store, or is answered as throttled here.
      connection.pendingRequest = Buffer.concat([connection.pendingRequest, chunk]);
      for (;;) {
        const request = firstRequest(connection.pendingRequest);
        if (!request) return;
        const whole = connection.pendingRequest.subarray(0, request.length);
        connection.pendingRequest = connection.pendingRequest.subarray(request.length);
        if (throttled?.(request.text)) client.write(THROTTLED_ANSWER);
        else upstream.write(whole);
      }
    });
    upstream.on('data', (answer: Buffer) => {
      if (holding) connection.heldAnswers.push(answer);
      else client.write(answer);
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the store proxy has no port');
  const { port } = address;
  const cut = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const connection of open) drop(connection);
    await closed;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    cut,
    restore: () => listen(port),
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const connection of open) letThrough(connection);
    },
    throttle: (matches) => {
      throttled = matches;
    },
    unthrottle: () => {
      throttled = undefined;
    },
    close: async () => {
      holding = false;
      if (server.listening) await cut();
    },
  };
};
